// info_checks.h: runs execute(info) on an in-memory image and checks its record (the info and qcow2_image
// targets share it): it always decodes, makes sense, and does not depend on scratch memory's old contents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "cli/record_decoder.h"
#include "core/io/memory_block_device.h"
#include "core/ops/execute.h"
#include "core/ops/info_record.h"
#include "fuzz-targets/fuzz_support.h"

namespace instar::fuzz::info_checks {

using instar::ByteSpan;
using instar::ImageFormat;
using instar::cli::RecordField;

// The same memory the CLI gives core/ (cli/run_core.cc): a 1 MiB image never needs more than a few MiB of
// either, and untouched pages cost nothing.
inline constexpr size_t kScratchBytes = 160u << 20;
inline constexpr size_t kRecordBytes = instar::cli::kMaxRecordSize;
inline uint8_t g_scratch[kScratchBytes];
inline uint8_t g_record[kRecordBytes];
inline uint8_t g_first_record[kRecordBytes];

inline bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

struct RunResult {
  size_t record_size;
  size_t scratch_used;
};

inline RunResult run(const instar::Request& request, ByteSpan image) {
  instar::MemoryBlockDevice device(image.data, image.size);
  instar::Devices devices;
  devices.image = &device;
  instar::Arena scratch(g_scratch, sizeof g_scratch);
  instar::RecordWriter writer(g_record, sizeof g_record);
  auto executed = instar::execute(request, devices, scratch, writer);
  // A record for a 1 MiB image always fits the CLI's 64 MiB.
  INSTAR_FUZZ_CHECK(executed.is_ok());
  INSTAR_FUZZ_CHECK(!writer.failed());
  INSTAR_FUZZ_CHECK(writer.data() == g_record && writer.size() <= sizeof g_record);
  return RunResult{writer.size(), scratch.used()};
}

inline void check_error(const RecordField& root) {
  auto message = root.string_of(instar::kTagErrorMessage);
  INSTAR_FUZZ_CHECK(message.has_value() && !message->empty());
  auto code = root.u64_of(instar::kTagErrorCode);
  INSTAR_FUZZ_CHECK(code.has_value() && *code <= static_cast<uint64_t>(instar::Errc::no_space));
  INSTAR_FUZZ_CHECK(root.u64_of(instar::kTagErrorDetail).has_value() ==
                    root.u64_of(instar::kTagErrorDetail2).has_value());
  INSTAR_FUZZ_CHECK(root.find(instar::kInfoFormat) == nullptr);
}

inline void check_qcow2(const RecordField& root) {
  auto cluster = root.u64_of(instar::kInfoClusterSize);
  INSTAR_FUZZ_CHECK(cluster.has_value() && is_power_of_two(*cluster) && *cluster >= 512 &&
                    *cluster <= (2u << 20));
  auto version = root.u64_of(instar::kInfoQcow2Version);
  INSTAR_FUZZ_CHECK(version == 2u || version == 3u);
  auto refcount_bits = root.u64_of(instar::kInfoRefcountBits);
  INSTAR_FUZZ_CHECK(refcount_bits.has_value() && is_power_of_two(*refcount_bits) && *refcount_bits <= 64);
  INSTAR_FUZZ_CHECK(root.u64_of(instar::kInfoCompressionType).value_or(9) <= 1);
  auto backing = root.string_of(instar::kInfoBackingName);
  if (backing) INSTAR_FUZZ_CHECK(!backing->empty() && backing->find('\0') == std::string::npos);
  if (root.find(instar::kInfoBackingFormat) != nullptr) INSTAR_FUZZ_CHECK(backing.has_value());
  for (const RecordField* s : root.find_all(instar::kInfoSnapshot)) {
    INSTAR_FUZZ_CHECK(s->is_group);
    INSTAR_FUZZ_CHECK(s->string_of(instar::kInfoSnapshotId).has_value());
    INSTAR_FUZZ_CHECK(s->string_of(instar::kInfoSnapshotName).has_value());
  }
  for (const RecordField* b : root.find_all(instar::kInfoBitmap)) {
    INSTAR_FUZZ_CHECK(b->is_group && *version == 3);
    auto granularity = b->u64_of(instar::kInfoBitmapGranularity);
    INSTAR_FUZZ_CHECK(granularity.has_value() && is_power_of_two(*granularity) && *granularity >= 512);
    INSTAR_FUZZ_CHECK(b->u64_of(instar::kInfoBitmapFlags).value_or(4) <= 3);
  }
  const RecordField* encryption = root.find(instar::kInfoEncryption);
  INSTAR_FUZZ_CHECK(root.bool_of(instar::kInfoEncrypted) || encryption == nullptr);
  if (encryption != nullptr) {
    auto format = encryption->string_of(instar::kInfoEncryptionFormat);
    INSTAR_FUZZ_CHECK(format == "aes" || format == "luks");
    if (format == "luks") INSTAR_FUZZ_CHECK(encryption->find_all(instar::kInfoLuksSlot).size() == 8);
  }
}

inline void check_record(ByteSpan record, ImageFormat expected, bool raw_forced, size_t image_size) {
  auto decoded = instar::cli::decode_record(record);
  // Every record the core writes decodes.
  INSTAR_FUZZ_CHECK(decoded.is_ok());
  INSTAR_FUZZ_CHECK(decoded.value().operation == static_cast<uint16_t>(instar::Operation::info));
  const RecordField& root = decoded.value().root;

  auto format_name = root.string_of(instar::kInfoFormat);
  if (!format_name) {
    // raw opens anything.
    INSTAR_FUZZ_CHECK(!raw_forced);
    check_error(root);
    return;
  }
  INSTAR_FUZZ_CHECK(root.find(instar::kTagErrorMessage) == nullptr);
  ImageFormat format = ImageFormat::dmg;
  INSTAR_FUZZ_CHECK(instar::image_format_from_name(format_name->c_str(), format));
  INSTAR_FUZZ_CHECK(format == expected);
  auto virtual_size = root.u64_of(instar::kInfoVirtualSize);
  INSTAR_FUZZ_CHECK(virtual_size.has_value() && *virtual_size % 512 == 0);
  if (format == ImageFormat::raw) {
    INSTAR_FUZZ_CHECK(*virtual_size == (image_size + 511) / 512 * 512);
    INSTAR_FUZZ_CHECK(root.find(instar::kInfoClusterSize) == nullptr);
  } else {
    INSTAR_FUZZ_CHECK(format == ImageFormat::qcow2);
    check_qcow2(root);
  }
}

// Runs `request` on `image` twice and checks the record; `expected` is the driver a report must name.
inline void run_and_check(const instar::Request& request, ByteSpan image, ImageFormat expected,
                          bool raw_forced) {
  RunResult first = run(request, image);
  check_record(ByteSpan(g_record, first.record_size), expected, raw_forced, image.size);

  // The same request gives the same record, even when the scratch memory held something else: nothing
  // depends on memory the core did not write.
  std::memcpy(g_first_record, g_record, first.record_size);
  std::memset(g_scratch, 0xa5, first.scratch_used);
  RunResult second = run(request, image);
  INSTAR_FUZZ_CHECK(second.record_size == first.record_size);
  INSTAR_FUZZ_CHECK(std::memcmp(g_first_record, g_record, first.record_size) == 0);
}

}  // namespace instar::fuzz::info_checks
