// info_qcow2_metadata.h: the parts of qcow2 info that read beyond the header:
// the LUKS header, the snapshot table, the bitmap directory. Each read_* runs
// qemu's open-time checks; each write_* then reports what was read.
#pragma once

#include "core/base/arena.h"
#include "core/crypto/luks_header.h"
#include "core/io/block_device.h"
#include "core/qcow2/header.h"
#include "core/record/record.h"

namespace instar::qcow2 {

// Which qemu's rules apply where the versions differ.
struct QemuRules {
  bool qemu_10 = true;
};

struct EncryptionView {
  enum class Kind { none, aes, luks } kind = Kind::none;
  LuksInfo luks{};
};
struct SnapshotView {
  ByteSpan table;
  uint32_t count = 0;
  uint64_t cluster_size = 0;
  uint64_t offset = 0;
};
struct BitmapView {
  ByteSpan directory;
  BitmapsExtension extension;
  uint64_t cluster_size = 0;
  uint64_t disk_size = 0;
  bool listed = false;  // qemu lists bitmaps for version 3 images only
};

Result<EncryptionView> read_encryption(BlockDevice& image, Arena& scratch, const Header& h,
                                       const Extensions& ext, const QemuRules& rules);
Result<SnapshotView> read_snapshot_table(BlockDevice& image, Arena& scratch, const Header& h);
Result<BitmapView> read_bitmap_directory(BlockDevice& image, Arena& scratch, const Header& h,
                                         const Extensions& ext);

void write_encryption(const EncryptionView& view, RecordWriter& out);
void write_snapshots(const SnapshotView& view, RecordWriter& out);
void write_bitmaps(const BitmapView& view, RecordWriter& out);

}  // namespace instar::qcow2
