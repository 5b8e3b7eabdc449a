// info_qcow2_metadata.cc: encryption, snapshots and bitmaps for qcow2 info.
// INTERIM: the table parsers are being written; until then these report nothing.
#include "core/ops/info_qcow2_metadata.h"

namespace instar::qcow2 {

Result<EncryptionView> read_encryption(BlockDevice&, Arena&, const Header&, const Extensions&) {
  return EncryptionView{};
}
Result<SnapshotView> read_snapshot_table(BlockDevice&, Arena&, const Header&) { return SnapshotView{}; }
Result<BitmapView> read_bitmap_directory(BlockDevice&, Arena&, const Header&, const Extensions&) {
  return BitmapView{};
}
void write_encryption(const EncryptionView&, RecordWriter&) {}
void write_snapshots(const SnapshotView&, RecordWriter&) {}
void write_bitmaps(const BitmapView&, RecordWriter&) {}

}  // namespace instar::qcow2
