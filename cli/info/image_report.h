// image_report.h: what info knows about one image: the guest's record plus
// host facts (names, allocated size), mirroring qemu's ImageInfo.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/record_decoder.h"

namespace instar::cli {

struct SnapshotReport {
  std::string id, name;
  uint64_t vm_state_size = 0, date_sec = 0, date_nsec = 0, vm_clock_nsec = 0;
  std::optional<uint64_t> icount;
};

struct BitmapReport {
  std::string name;
  uint64_t granularity = 0;
  uint64_t flags = 0;  // bit 0 in-use, bit 1 auto
};

struct LuksSlotReport {
  bool active = false;
  std::optional<uint64_t> iters, stripes;
  uint64_t key_offset = 0;
};

struct EncryptionReport {
  std::string format;  // "aes" or "luks"
  std::string cipher_alg, cipher_mode, ivgen_alg, hash_alg, uuid;
  std::optional<std::string> ivgen_hash_alg;
  uint64_t payload_offset = 0, master_key_iters = 0;
  std::vector<LuksSlotReport> slots;
};

struct Qcow2Report {
  uint64_t version = 3, compression_type = 0, refcount_bits = 16;
  bool lazy_refcounts = false, corrupt = false, extended_l2 = false;
  std::optional<std::string> data_file;
  bool data_file_required = false, data_file_raw = false;
  std::vector<BitmapReport> bitmaps;
  std::optional<EncryptionReport> encryption;
};

struct ImageReport {
  // From the record.
  std::string format;
  uint64_t virtual_size = 0;
  std::optional<uint64_t> cluster_size;
  bool encrypted = false, dirty = false;
  std::optional<std::string> backing_name, backing_format;
  std::vector<SnapshotReport> snapshots;
  std::optional<Qcow2Report> qcow2;
  std::vector<std::string> warnings;
  // From the host.
  std::string filename;
  std::optional<std::string> full_backing_name;
  std::optional<uint64_t> actual_size;  // st_blocks * 512
  uint64_t file_length = 0;
};

struct RecordError {
  std::string message;  // with its numbers substituted
};

// Fills the record-derived part of `report`; returns the operation's error if the record carries one.
Result<void> report_from_record(const DecodedRecord& record, ImageReport& report,
                                std::optional<RecordError>& error);

}  // namespace instar::cli
