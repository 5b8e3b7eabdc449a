// info_qcow2_metadata.h: the parts of qcow2 info that read tables beyond the
// header: encryption header, snapshot table, bitmap directory.
#pragma once

#include "core/base/arena.h"
#include "core/io/block_device.h"
#include "core/qcow2/header.h"
#include "core/record/record.h"

namespace instar::qcow2 {

struct EncryptionSummary;  // defined in info_qcow2_metadata.cc
struct SnapshotSummary;
struct BitmapSummary;

struct EncryptionView {
  const EncryptionSummary* summary = nullptr;
};
struct SnapshotView {
  ByteSpan table;
  uint32_t count = 0;
  uint64_t cluster_size = 0;
};
struct BitmapView {
  ByteSpan directory;
  uint32_t count = 0;
  uint64_t cluster_size = 0;
  bool listed = false;  // qemu lists bitmaps for version 3 images only
};

Result<EncryptionView> read_encryption(BlockDevice& image, Arena& scratch, const Header& h, const Extensions& ext);
Result<SnapshotView> read_snapshot_table(BlockDevice& image, Arena& scratch, const Header& h);
Result<BitmapView> read_bitmap_directory(BlockDevice& image, Arena& scratch, const Header& h, const Extensions& ext);

void write_encryption(const EncryptionView& view, RecordWriter& out);
void write_snapshots(const SnapshotView& view, RecordWriter& out);
void write_bitmaps(const BitmapView& view, RecordWriter& out);

}  // namespace instar::qcow2
