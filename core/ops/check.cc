// check.cc: probe or take the format, open the image as qemu's check does,
// run the format's consistency check, and record what it found.
#include "core/ops/check.h"

#include "core/base/padded.h"
#include "core/base/text.h"
#include "core/image/foreign_open.h"
#include "core/ops/check_bitmap_store.h"
#include "core/ops/check_record.h"
#include "core/ops/info.h"
#include "core/ops/info_qcow2_metadata.h"
#include "core/qcow2/header.h"
#include "core/qcow2/header_rewrite.h"
#include "core/qcow2/refcount_check.h"
#include "core/qcow2/snapshot_table.h"
#include "core/qcow2/snapshot_table_repair.h"

namespace instar {

namespace {

// The lines go into the record as they come, up to a budget that leaves room for the rest.
constexpr size_t kLogBudget = 16u << 20;

class RecordLog final : public qcow2::CheckLog {
 public:
  explicit RecordLog(RecordWriter& out) : out_(out) {}
  void line(ByteSpan text) override { put(kCheckLine, text); }
  void error_line(ByteSpan text) override { put(kCheckErrorLine, text); }
  void finish() {
    if (dropped_ != 0) out_.put_u64(kCheckLinesDropped, dropped_);
  }

 private:
  void put(uint16_t tag, ByteSpan text) {
    size_t cost = text.size + kRecordFieldHeaderSize;
    if (dropped_ != 0 || cost > kLogBudget - used_) {
      dropped_++;
      return;
    }
    used_ += cost;
    out_.put_bytes(tag, text);
  }
  RecordWriter& out_;
  size_t used_ = 0;
  uint64_t dropped_ = 0;
};

ByteSpan until_nul(ByteSpan s) {
  size_t n = 0;
  while (n < s.size && s[n] != 0) n++;
  return s.subspan(0, n);
}

// The bytes [offset, offset + length) that exist in the file, at most `length`.
Result<ByteSpan> read_clipped(BlockDevice& image, Arena& scratch, uint64_t offset, uint64_t length) {
  uint64_t size = image.size();
  uint64_t available = offset < size ? size - offset : 0;
  if (available > length) available = length;
  INSTAR_TRY_ASSIGN(buffer, scratch.allocate(static_cast<size_t>(available)));
  if (available > 0) INSTAR_TRY(image.read(offset, buffer, static_cast<size_t>(available)));
  return ByteSpan(buffer, static_cast<size_t>(available));
}

Result<ByteSpan> read_padded(BlockDevice& image, Arena& scratch, uint64_t offset, uint64_t length) {
  if (length > SIZE_MAX) return make_error(Errc::too_large, "Cannot allocate memory");
  INSTAR_TRY_ASSIGN(buffer, scratch.allocate(static_cast<size_t>(length)));
  INSTAR_TRY(read_zero_padded(image, offset, buffer, static_cast<size_t>(length)));
  return ByteSpan(buffer, static_cast<size_t>(length));
}

int errno_of(const Error& error) {
  switch (error.code) {
    case Errc::too_large:
      return qcow2::kCheckEfbig;
    case Errc::io:
      return qcow2::kCheckEio;
    default:
      return qcow2::kCheckEinval;
  }
}

// "{}" in an error message is its number (core's error messages carry at most two).
void append_error_text(TextBuilder& text, const Error& error) {
  const char* m = error.message;
  int used = 0;
  for (size_t i = 0; m[i] != '\0'; i++) {
    if (error.has_detail && used < 2 && m[i] == '{' && m[i + 1] == '}') {
      text.append_decimal(used == 0 ? error.detail : error.detail2);
      used++;
      i++;
      continue;
    }
    text.put(m[i]);
  }
}

struct CheckOpen {
  qcow2::Header header;
  qcow2::Extensions ext;
  bool has_data_file = false;
  ByteSpan backing_name;
};

// qemu's qcow2 open with BDRV_O_CHECK: as for info, except that the snapshot
// table is left for the check itself to read (and to report on).
Result<CheckOpen> open_for_check(BlockDevice& image, const qcow2::QemuRules& rules, Arena& scratch) {
  using namespace qcow2;
  CheckOpen o;
  uint8_t header_bytes[kHeaderStructSize];
  INSTAR_TRY(read_zero_padded(image, 0, header_bytes, sizeof header_bytes));
  INSTAR_TRY_ASSIGN(h, parse_header(ByteSpan(header_bytes, sizeof header_bytes)));
  uint64_t ext_end = h.extensions_end();
  uint64_t area_length = ext_end > h.header_length ? ext_end - h.header_length : 0;
  INSTAR_TRY_ASSIGN(area, read_padded(image, scratch, h.header_length, area_length));
  uint64_t unknown = h.incompatible_features & ~kIncompatKnownMask;
  if (unknown != 0) {
    static char text[512];
    describe_unsupported_features(scan_extensions(h, area), unknown, text, sizeof text);
    return make_error(Errc::unsupported, text);
  }
  // With BDRV_O_CHECK qemu's open leaves the snapshot table pointer alone: the
  // check validates it first (snapshot_pointer_error).
  Header tables = h;
  tables.nb_snapshots = 0;
  tables.snapshots_offset = 0;
  INSTAR_TRY(validate_tables(tables));
  INSTAR_TRY_ASSIGN(ext, parse_extensions(h, area));
  INSTAR_TRY_ASSIGN(encryption, read_encryption(image, scratch, h, ext, rules));
  (void)encryption;
  o.has_data_file = (h.incompatible_features & kIncompatDataFile) != 0;
  if (o.has_data_file && !ext.has_data_file) return make_error(Errc::invalid, "'data-file' is required for this image");
  bool data_file_raw = (h.autoclear_features & kAutoclearDataFileRaw) != 0;
  if (!o.has_data_file && data_file_raw) return make_error(Errc::invalid, "data-file-raw requires a data file");
  if (h.backing_file_offset != 0) {
    uint64_t limit = h.cluster_size() - h.backing_file_offset;
    if (limit > kMaxBackingNameLength) limit = kMaxBackingNameLength;
    if (h.backing_file_size > limit) return make_error(Errc::invalid, "Backing file name too long");
    INSTAR_TRY_ASSIGN(name, read_padded(image, scratch, h.backing_file_offset, h.backing_file_size));
    o.backing_name = until_nul(name);
  }
  INSTAR_TRY(read_bitmap_directory(image, scratch, h, ext));
  o.header = h;
  o.ext = ext;
  return o;
}

// qemu's check starts with the snapshot table pointer, as its open would have
// validated it (qcow2_validate_table): the error line, the hint qemu prints with
// it, and the errno the check fails with; 0 when the pointer is valid.
int snapshot_pointer_error(const qcow2::Header& h, qcow2::CheckLog& log) {
  char text[96];
  TextBuilder line(text, sizeof text);
  auto span = [&] { return ByteSpan(reinterpret_cast<const uint8_t*>(text), line.length()); };
  if (h.nb_snapshots > qcow2::kMaxSnapshots) {
    line.append("ERROR snapshot table too large");
    log.error_line(span());
    line = TextBuilder(text, sizeof text);
    line.append("You can force-remove all ");
    line.append_decimal(h.nb_snapshots - qcow2::kMaxSnapshots);
    line.append(" overhanging snapshots with qemu-img check -r all");
    log.line(span());
    return qcow2::kCheckEfbig;
  }
  uint64_t bytes = h.nb_snapshots * qcow2::kSnapshotHeaderSize;
  if (0x7fffffffffffffffull - bytes < h.snapshots_offset || h.snapshots_offset % h.cluster_size() != 0) {
    line.append("ERROR snapshot table offset invalid");
    log.error_line(span());
    return qcow2::kCheckEinval;
  }
  return 0;
}

static_assert(kRepairLeaks == 1 && kRepairErrors == 2, "the check's fix bits are qemu's BDRV_FIX_*");

// The image of a repair whose rebuild grows the file: the host made the device
// as large as the planned file, the check sees the file as long as it is.
// qemu's truncation of the file for a refcount block outside it is seen
// here first (zeros past the file's end) and made when the repair is issued.
class GrowingImage final : public BlockDevice, public qcow2::FileGrowth {
 public:
  GrowingImage(BlockDevice& device, uint64_t length) : device_(device), length_(length), file_length_(length) {}
  uint64_t size() const override { return length_; }
  Result<void> read(uint64_t offset, void* buffer, size_t length) override {
    if (offset > length_ || length > length_ - offset) return make_error(Errc::io, "read beyond end of device");
    auto* out = static_cast<uint8_t*>(buffer);
    size_t in_file = offset >= file_length_ ? 0 : static_cast<size_t>(file_length_ - offset < length ? file_length_ - offset : length);
    if (in_file != 0) INSTAR_TRY(device_.read(offset, out, in_file));
    for (size_t i = in_file; i < length; i++) out[i] = 0;
    return ok();
  }
  void grow(uint64_t size) override {
    if (size > length_) length_ = size;
  }
  uint64_t file_length() const { return file_length_; }
  Result<void> write(uint64_t offset, const void* buffer, size_t length) override {
    return device_.write(offset, buffer, length);
  }
  Result<DeviceExtent> extent(uint64_t offset) override {
    if (offset >= length_) return make_error(Errc::io, "extent query beyond end of device");
    if (offset >= file_length_) return DeviceExtent{false, length_ - offset};
    INSTAR_TRY_ASSIGN(e, device_.extent(offset));
    if (e.length > file_length_ - offset) e.length = file_length_ - offset;
    return e;
  }
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool unmap) override {
    return device_.write_zeroes(offset, length, unmap);
  }
  Result<void> flush() override { return device_.flush(); }
  uint64_t allocated_size() const override { return device_.allocated_size(); }

 private:
  BlockDevice& device_;
  uint64_t length_;       // as the check sees the file
  uint64_t file_length_;  // the file's length before the repair
};

// Writes a planned refcount rebuild as qemu does: every new block whole, the
// new table, then the header's refcount_table_offset and _clusters (12 bytes).
Result<void> apply_rebuild(BlockDevice& image, const qcow2::RebuildPlan& plan, Arena& scratch) {
  const uint64_t cluster_size = uint64_t{1} << plan.cluster_bits;
  INSTAR_TRY_ASSIGN(buffer, scratch.allocate(static_cast<size_t>(cluster_size)));
  for (size_t i = 0; i < plan.block_count; i++) {
    qcow2::encode_rebuild_block(plan, plan.blocks[i], buffer);
    INSTAR_TRY(image.write(plan.blocks[i].offset, buffer, static_cast<size_t>(cluster_size)));
  }
  for (uint64_t n = 0; n < plan.table_clusters; n++) {
    qcow2::encode_rebuild_table(plan, n, buffer);
    INSTAR_TRY(image.write(plan.table_offset + n * cluster_size, buffer, static_cast<size_t>(cluster_size)));
  }
  INSTAR_TRY(image.flush());
  uint8_t fields[12];
  qcow2::encode_rebuild_header_fields(plan, fields);
  INSTAR_TRY(image.write(qcow2::kRefcountTableFieldsOffset, fields, sizeof fields));
  return image.flush();
}

// Reads each span once, changes it in memory and writes back the bytes that changed, in one write.
template <typename Plan, typename Apply>
Result<void> apply_spans(BlockDevice& image, const Plan& plan, uint8_t* buffer, Apply apply) {
  for (size_t i = 0; i < plan.span_count; i++) {
    const qcow2::RepairSpan& span = plan.spans[i];
    INSTAR_TRY(image.read(span.offset, buffer, static_cast<size_t>(span.length)));
    qcow2::SpanChange change = apply(plan, span, buffer);
    if (change.end == change.begin) continue;
    INSTAR_TRY(image.write(span.offset + change.begin, buffer + change.begin,
                           static_cast<size_t>(change.end - change.begin)));
  }
  return ok();
}

uint64_t longest_span(const qcow2::RepairSpan* spans, size_t count, uint64_t longest) {
  for (size_t i = 0; i < count; i++)
    if (spans[i].length > longest) longest = spans[i].length;
  return longest;
}

// Issues a validated repair: the refcount blocks' spans, the discards of runs
// of clusters whose refcount dropped to 0 (qemu punches them), then the L1 and
// L2 spans whose OFLAG_COPIED flags change. Each span costs one read and at
// most one write, however many entries it holds.
Result<void> apply_repair(BlockDevice& image, const qcow2::RepairResult& repair, Arena& scratch) {
  uint64_t longest = longest_span(repair.plan.spans, repair.plan.span_count, 0);
  longest = longest_span(repair.copied.spans, repair.copied.span_count, longest);
  uint8_t* buffer = nullptr;
  if (longest != 0) {
    INSTAR_TRY_ASSIGN(memory, scratch.allocate(static_cast<size_t>(longest)));
    buffer = memory;
  }
  INSTAR_TRY(apply_spans(image, repair.plan, buffer, qcow2::apply_repair_span));
  for (size_t i = 0; i < repair.plan.discard_count; i++)
    INSTAR_TRY(image.write_zeroes(repair.plan.discards[i].offset, repair.plan.discards[i].length, true));
  INSTAR_TRY(apply_spans(image, repair.copied, buffer, qcow2::apply_copied_span));
  return image.flush();
}

// The header's nb_snapshots (4 bytes at 60) and, `with_offset`, snapshots_offset (8 bytes after it).
Result<void> write_snapshot_pointer(BlockDevice& image, uint32_t count, uint64_t offset, bool with_offset) {
  constexpr uint64_t kNbSnapshotsOffset = 60;
  uint8_t fields[12];
  for (size_t i = 0; i < 4; i++) fields[i] = static_cast<uint8_t>(count >> (24 - 8 * i));
  for (size_t i = 0; i < 8; i++) fields[4 + i] = static_cast<uint8_t>(offset >> (56 - 8 * i));
  INSTAR_TRY(image.write(kNbSnapshotsOffset, fields, with_offset ? 12 : 4));
  return image.flush();
}

// Writes -r all's new snapshot table as qemu's qcow2_write_snapshots does: the table (not the padding
// between entries), its clusters' refcounts, the header's nb_snapshots and snapshots_offset (12 bytes
// at 60), then the old table's refcounts lowered and the clusters that drop to 0 punched.
Result<void> apply_snapshot_move(BlockDevice& image, const qcow2::RepairResult& repair,
                                 const qcow2::SnapshotTableImage& table, uint32_t count, Arena& scratch) {
  const uint64_t offset = repair.snapshot_table_offset;
  for (size_t i = 0; i < table.piece_count; i++) {
    const qcow2::SnapshotTablePiece& piece = table.pieces[i];
    INSTAR_TRY(
        image.write(offset + piece.at, table.bytes.data + piece.at, static_cast<size_t>(piece.length)));
  }
  const qcow2::RepairPlan& plan = repair.snapshot_refcounts;
  uint64_t longest = longest_span(plan.spans, plan.span_count, 0);
  uint8_t* buffer = nullptr;
  if (longest != 0) {
    INSTAR_TRY_ASSIGN(memory, scratch.allocate(static_cast<size_t>(longest)));
    buffer = memory;
  }
  INSTAR_TRY(apply_spans(image, plan, buffer, qcow2::apply_repair_span));
  INSTAR_TRY(image.flush());
  INSTAR_TRY(write_snapshot_pointer(image, count, offset, true));
  for (size_t i = 0; i < plan.discard_count; i++)
    INSTAR_TRY(image.write_zeroes(plan.discards[i].offset, plan.discards[i].length, true));
  return image.flush();
}

// The header's incompatible_features field (bytes 72..79), big-endian: qemu sets the corrupt bit
// (qcow2_mark_corrupt), clears it (qcow2_mark_consistent) or the dirty bit (qcow2_mark_clean) by
// rewriting the header, which changes only this field where header_rewritten_as_is.
Result<void> write_incompatible_features(BlockDevice& image, uint64_t value) {
  constexpr uint64_t kIncompatibleFeaturesOffset = 72;
  if (image.size() < kIncompatibleFeaturesOffset + 8) return make_error(Errc::io, "the header is cut short");
  uint8_t bytes[8];
  for (size_t i = 0; i < 8; i++) bytes[i] = static_cast<uint8_t>(value >> (56 - 8 * i));
  INSTAR_TRY(image.write(kIncompatibleFeaturesOffset, bytes, sizeof bytes));
  return image.flush();
}

// qemu sets or clears a feature bit (dirty, corrupt) by rewriting the whole first cluster from what it
// parsed (qcow2_update_header); instar writes the bits alone, so only where that rewrite changes nothing
// else (measured: a header qemu wrote is rewritten as it is).
bool header_rewritten_as_is(BlockDevice& image, uint64_t file_length, const qcow2::Header& h, Arena& scratch) {
  const uint64_t cluster_size = h.cluster_size();
  if (file_length < cluster_size) return false;  // qemu's rewrite would grow the file
  auto first = scratch.allocate(static_cast<size_t>(cluster_size));
  if (first.is_error() || image.read(0, first.value(), static_cast<size_t>(cluster_size)).is_error())
    return false;
  return qcow2::header_rewrite_only_features(h, ByteSpan(first.value(), static_cast<size_t>(cluster_size)),
                                             scratch);
}

class DiscardLog final : public qcow2::CheckLog {
 public:
  void line(ByteSpan) override {}
  void error_line(ByteSpan) override {}
};

// The host's last run of a repair on an image with persistent bitmaps (after the check again, as qemu
// stores them when it closes the image): the repaired image is checked silently, must be consistent,
// and the store planned over its refcounts must reach exactly as far as the repair run planned
// (the device's size). Records only an error.
Result<void> store_bitmaps(GrowingImage& image, uint64_t capacity, const CheckOpen& o, Arena& scratch) {
  const qcow2::Header& h = o.header;
  if (!o.ext.has_bitmaps || o.ext.bitmaps.nb_bitmaps == 0)
    return make_error(Errc::invalid, "no bitmaps to store");
  ByteSpan snapshot_table;
  if (h.nb_snapshots != 0) {
    INSTAR_TRY_ASSIGN(table, read_clipped(image, scratch, h.snapshots_offset, kQcow2MaxSnapshotTableBytes));
    snapshot_table = table;
  }
  qcow2::CheckInput input;
  input.header = &h;
  input.ext = &o.ext;
  input.has_data_file = o.has_data_file;
  input.snapshot_table = snapshot_table;
  DiscardLog log;
  qcow2::CheckCounts counts;
  qcow2::RepairResult counted;
  int failed = snapshot_pointer_error(h, log);
  if (failed == 0) failed = qcow2::check_refcounts(image, input, scratch, log, counts, &counted);
  if (failed != 0 || counts.check_errors != 0 || counts.corruptions != 0 || counts.leaks != 0)
    return make_error(Errc::invalid, "the repaired image is not consistent: its bitmaps are not stored");
  INSTAR_TRY_ASSIGN(store,
                    plan_check_bitmap_store(image, h, o.ext, counted.counted, snapshot_table.size, scratch));
  if (!store.store.stores || store.store.file_size != capacity)
    return make_error(Errc::invalid, "the bitmap store planned after the repair differs from the repair's");
  image.grow(capacity);  // the file grows as qemu's store grows it, and no further
  return apply_check_bitmap_store(image, store, scratch);
}

void put_counts(const qcow2::CheckCounts& c, RecordWriter& out) {
  out.put_u64(kCheckCheckErrors, c.check_errors);
  out.put_u64(kCheckCorruptions, c.corruptions);
  out.put_u64(kCheckLeaks, c.leaks);
  out.put_u64(kCheckTotalClusters, c.total_clusters);
  out.put_u64(kCheckAllocatedClusters, c.allocated_clusters);
  out.put_u64(kCheckFragmentedClusters, c.fragmented_clusters);
  out.put_u64(kCheckCompressedClusters, c.compressed_clusters);
  out.put_u64(kCheckImageEndOffset, c.image_end_offset);
  if (c.leaks_fixed != 0) out.put_u64(kCheckLeaksFixed, c.leaks_fixed);
  if (c.corruptions_fixed != 0) out.put_u64(kCheckCorruptionsFixed, c.corruptions_fixed);
}

// `capacity`: how far the repair may write (the device's size; the file's length but for a rebuild
// the host gave room to grow).
Result<void> check_qcow2(GrowingImage& image, uint64_t capacity, const Request& request, Arena& scratch,
                         RecordWriter& out) {
  INSTAR_TRY_ASSIGN(o, open_for_check(image, qcow2::QemuRules{request.qemu_major >= 10}, scratch));
  const qcow2::Header& h = o.header;
  // check opens with I/O (unlike info), so qemu sets up the cipher and needs the key, which qemu-img
  // check can only be given through --image-opts (not supported): measured for AES and LUKS, with and
  // without -r. So an encrypted image is never checked, nor repaired.
  if (h.crypt_method != 0)
    return make_error(Errc::unsupported, "Parameter 'encrypt.key-secret' is required for cipher");
  if (request.check.store_bitmaps) {
    out.put_string(kCheckFormat, "qcow2");
    return store_bitmaps(image, capacity, o, scratch);
  }
  out.put_string(kCheckFormat, "qcow2");
  if (o.backing_name.size > 0) {
    out.put_bytes(kCheckBackingName, o.backing_name);
    if (o.ext.has_backing_format) out.put_bytes(kCheckBackingFormat, until_nul(o.ext.backing_format));
  }
  if (o.has_data_file) out.put_bytes(kCheckDataFileName, until_nul(o.ext.data_file));
  if (o.ext.bitmaps_ignored) {
    out.put_string(kTagWarning,
                   h.version < 3
                       ? "This qcow2 v2 image contains bitmaps, but they may have been modified by a "
                         "program without persistent bitmap support; so now they must all be "
                         "considered inconsistent"
                       : "a program lacking bitmap support modified this file, so all bitmaps are now "
                         "considered inconsistent");
    out.put_bool(kCheckBitmapsLeakHint, true);
  }

  uint8_t repair = request.check.repair & (kRepairLeaks | kRepairErrors);
  const bool dirty = (h.incompatible_features & qcow2::kIncompatDirty) != 0;
  // Whether qemu's rewrite of this header changes only its feature bits: read and decided once, when
  // a bit is to change (nothing is written before the second question).
  int as_is = -1;  // not asked yet
  auto rewritten_as_is = [&]() {
    if (as_is < 0) as_is = header_rewritten_as_is(image, image.file_length(), h, scratch) ? 1 : 0;
    return as_is == 1;
  };
  if (repair != 0 && dirty && !rewritten_as_is()) {
    out.put_string(kCheckRepairRefused,
                   "clearing the dirty bit of a header qemu would rewrite differently is not supported by "
                   "instar yet");
    return ok();
  }
  // -r opens the image read-write: qemu loads the persistent bitmaps and stores them back on close
  // (check_bitmap_store.h), or, where a program without bitmap support cleared the autoclear bit,
  // drops the bitmaps extension by rewriting the header (its clusters then show up as leaks).
  const bool bitmaps = o.ext.has_bitmaps && o.ext.bitmaps.nb_bitmaps != 0;
  if (repair != 0 && (bitmaps || o.ext.bitmaps_ignored) && h.nb_snapshots != 0) {
    // Measured (7.2 and 10.0): qemu's read-write open rewrites the header for the bitmaps before the
    // check has read the snapshot table, so it writes no snapshots; the check then frees their clusters.
    out.put_string(
        kCheckRepairRefused,
        "repairing an image with persistent bitmaps and snapshots (qemu's open drops the snapshots) "
        "is not supported by instar");
    return ok();
  }
  BitmapsExtensionDrop drop;
  if (repair != 0 && o.ext.bitmaps_ignored) {
    auto planned = dirty ? Result<BitmapsExtensionDrop>(make_error(Errc::unsupported, "the dirty bit"))
                         : plan_bitmaps_extension_drop(image, h, scratch);
    if (planned.is_error()) {
      out.put_string(
          kCheckRepairRefused,
          "dropping the bitmaps extension of this header as qemu does is not supported by instar yet");
      return ok();
    }
    drop = planned.value();
  }
  if (repair != 0 && bitmaps && dirty) {
    out.put_string(
        kCheckRepairRefused,
        "clearing the dirty bit of an image with persistent bitmaps is not supported by instar yet");
    return ok();
  }
  if ((repair & kRepairErrors) != 0 && h.nb_snapshots > qcow2::kMaxSnapshots) {
    // qemu cuts the table to 65536 entries and rewrites it and the header.
    out.put_string(kCheckRepairRefused, "discarding overhanging snapshots is not supported by instar yet");
    return ok();
  }
  RecordLog log(out);
  qcow2::CheckCounts counts;
  qcow2::RepairResult repair_result;
  int failed = snapshot_pointer_error(h, log);
  if (failed != 0) counts.check_errors++;
  // The snapshot table, read in check mode: a broken one stops the check.
  ByteSpan snapshot_table;
  qcow2::SnapshotTableScan scan;
  const bool fix_table = (repair & kRepairErrors) != 0;
  if (failed == 0 && h.nb_snapshots != 0) {
    INSTAR_TRY_ASSIGN(table, read_clipped(image, scratch, h.snapshots_offset, kQcow2MaxSnapshotTableBytes));
    snapshot_table = table;
    Qcow2SnapshotReader reader(table, h.nb_snapshots, h.cluster_size(), h.snapshots_offset);
    reader.set_repair(fix_table);
    auto valid = reader.validate();
    // Overhanging snapshots: -r all discards them (scan_snapshot_table).
    if (valid.is_error() && !(fix_table && qcow2_snapshot_error_repairable(valid.error()))) {
      counts.check_errors++;
      char text[600];
      TextBuilder line(text, sizeof text);
      line.append("ERROR failed to read the snapshot table: ");
      append_error_text(line, valid.error());
      log.error_line(ByteSpan(reinterpret_cast<const uint8_t*>(text), line.length()));
      failed = errno_of(valid.error());
    } else {
      auto scanned = qcow2::scan_snapshot_table(table, h, fix_table, log);
      if (scanned.is_error()) return scanned.error();  // validated above
      scan = scanned.value();
      // Entries read beyond the 64 MiB read here but inside the file (extra data cut by -r all) would
      // be seen as zeros.
      if (fix_table && scan.furthest_read > table.size && table.size == kQcow2MaxSnapshotTableBytes) {
        out.put_string(kCheckRepairRefused,
                       "a snapshot table entry reaching past 64 MiB is not supported by instar yet");
        return ok();
      }
    }
  }
  // A snapshot table the check could not read is forgotten (qemu's "invalidate this information"):
  // a header rewrite on close (clearing the dirty bit) then stores no snapshots at offset 0.
  const bool snapshots_forgotten = repair != 0 && failed != 0;
  // -r all discards overhanging snapshots at once: qemu writes the header's count before it counts
  // references (the rest of the table and the discarded snapshots' clusters then leak), and checks
  // the image with the snapshots it kept.
  qcow2::Header kept = h;
  kept.nb_snapshots = scan.count;
  // -r all rewrites the snapshot table (after the refcount repair) where it found anything wrong.
  qcow2::SnapshotTableImage new_table;
  const bool rewrite_table = fix_table && failed == 0 && scan.corruptions() != 0;
  if (rewrite_table) {
    auto built = qcow2::build_snapshot_table(snapshot_table, kept, scratch);
    if (built.is_error() || built.value().bytes.size != scan.new_length) {
      out.put_string(kCheckRepairRefused, "rewriting this snapshot table is not supported by instar yet");
      return ok();
    }
    new_table = built.value();
  }
  if (failed == 0) {
    qcow2::CheckInput input;
    input.header = &kept;
    input.ext = &o.ext;
    input.has_data_file = o.has_data_file;
    input.snapshot_table = snapshot_table;
    input.repair = repair;
    if ((repair & kRepairErrors) != 0) input.growth = &image;
    if (rewrite_table) {
      input.snapshot_rewrite_length = scan.new_length;
      input.snapshot_old_length = scan.old_length;
    }
    failed = qcow2::check_refcounts(image, input, scratch, log, counts, repair != 0 ? &repair_result : nullptr);
  }
  log.finish();
  if (failed == qcow2::kCheckRepairRefusedCode) {
    out.put_string(kCheckRepairRefused, repair_result.refused);
    return ok();
  }
  // No entry kept: qemu's rewrite allocates nothing and points the header at offset 0.
  const bool empty_table = rewrite_table && failed == 0 && scan.new_length == 0;
  if (rewrite_table && failed == 0 && !empty_table && !repair_result.has_snapshot_move) {
    out.put_string(kCheckRepairRefused, "rewriting this snapshot table is not supported by instar yet");
    return ok();
  }
  // qemu counts the snapshot table's corruptions after the refcounts', fixed once the table is rewritten.
  counts.corruptions_fixed += scan.overhanging;
  if (repair_result.has_snapshot_move || empty_table)
    counts.corruptions_fixed += scan.corruptions();
  else
    counts.corruptions += scan.corruptions();
  // qemu stores the bitmaps when it closes the image, after its check again: planned and validated
  // now, over the refcounts the repair leaves, and issued by the host's last run.
  CheckBitmapStore store;
  if (bitmaps && repair != 0) {
    const char* why = nullptr;
    if (failed != 0)
      why = "storing persistent bitmaps after a check that failed is not supported by instar yet";
    else if (repair_result.has_rebuild || repair_result.mark_corrupt || repair_result.zeroed_count != 0)
      why =
          "storing persistent bitmaps after a rebuild or a rewritten L2 entry is not supported by instar yet";
    else if (counts.check_errors != 0 || counts.corruptions != 0 || counts.leaks != 0)
      why =
          "storing persistent bitmaps over refcounts the repair leaves wrong is not supported by instar yet";
    else if ((h.incompatible_features & qcow2::kIncompatCorrupt) != 0)
      why = "storing persistent bitmaps in an image marked corrupt is not supported by instar yet";
    if (why == nullptr) {
      auto planned =
          plan_check_bitmap_store(image, h, o.ext, repair_result.counted, snapshot_table.size, scratch);
      if (planned.is_error()) {
        static char text[256];
        TextBuilder line(text, sizeof text);
        line.append(
            "storing these persistent bitmaps as qemu does on close is not supported by instar yet (");
        append_error_text(line, planned.error());
        line.append(")");
        why = text;
      } else {
        store = planned.value();
      }
    }
    if (why != nullptr) {
      out.put_string(kCheckRepairRefused, why);
      return ok();
    }
  }
  // The feature bits a repair leaves once it is written: a repair that leaves no error and no
  // corruption clears the corrupt bit (qcow2_mark_consistent); qemu clears the dirty bit when it closes
  // the image it opened read-write (qcow2_inactivate), whatever the check found, unless a corruption
  // event disabled the image first (measured with 7.2 and 10.0), which sets the corrupt bit at once.
  auto final_features = [&]() {
    uint64_t f = h.incompatible_features;
    if (repair_result.mark_corrupt) return f | qcow2::kIncompatCorrupt;
    if (failed == 0 && repair != 0 && counts.check_errors == 0 && counts.corruptions == 0)
      f &= ~qcow2::kIncompatCorrupt;
    if (repair != 0 && dirty) f &= ~qcow2::kIncompatDirty;
    return f;
  };
  // Marking the image corrupt rewrites the header whatever it held, and so does changing a bit:
  // refused, before any write, where qemu's rewrite would change more than the bits.
  if ((repair_result.mark_corrupt || final_features() != h.incompatible_features) &&
      !rewritten_as_is()) {
    out.put_string(kCheckRepairRefused,
                   "changing the corrupt bit of a header qemu would rewrite differently is not supported by "
                   "instar yet");
    return ok();
  }
  if (failed == 0 && repair_result.has_rebuild) {
    // The file grows exactly as the planned rebuild grows it: the host is asked for a device that
    // large first (nothing is written in this run), then runs the repair again on it.
    uint64_t planned = repair_result.rebuild.file_size;
    if (planned > capacity) {
      out.put_u64(kCheckRepairGrowTo, planned);
      return ok();
    }
    if (capacity != image.file_length() && planned != capacity) {
      out.put_string(kCheckRepairRefused, "a rebuild whose planned size changed between runs is refused");
      return ok();
    }
  }
  if (failed == 0 && repair_result.has_snapshot_move) {
    // The rewritten table may end past the file: the host makes room first, as for a rebuild.
    uint64_t planned = repair_result.snapshot_table_offset + scan.new_length;
    if (planned > image.file_length()) {
      if (planned > capacity) {
        out.put_u64(kCheckRepairGrowTo, planned);
        return ok();
      }
      if (planned != capacity) {
        out.put_string(kCheckRepairRefused,
                       "a snapshot table whose planned place changed between runs is refused");
        return ok();
      }
    }
  }
  if (drop.header != nullptr && (repair_result.has_rebuild || repair_result.mark_corrupt)) {
    out.put_string(
        kCheckRepairRefused,
        "a rebuild or a corrupt bit on a header whose bitmaps extension qemu drops is not supported by "
        "instar yet");
    return ok();
  }
  // qemu's open dropped the bitmaps extension a program without bitmap support left (its rewrite of
  // the header, predicted and validated before the check), before its check, whatever that finds.
  if (drop.header != nullptr && drop.end > drop.begin &&
      image.write(drop.begin, drop.header + drop.begin, static_cast<size_t>(drop.end - drop.begin))
          .is_error()) {
    counts.check_errors++;
    if (failed == 0) failed = qcow2::kCheckEio;
  }
  // -r all rewrote unaligned preallocated zero clusters' L2 entries while it counted (qemu writes each at
  // once, whatever follows); validated against qemu's overlap check and the file.
  for (size_t i = 0; i < repair_result.zeroed_count; i++) {
    const qcow2::L2EntryPatch& p = repair_result.zeroed[i];
    if (image.write(p.offset, p.bytes, p.length).is_error()) {
      counts.check_errors++;
      if (failed == 0) failed = qcow2::kCheckEio;
      break;
    }
  }
  // qemu set the corrupt bit at once (the first write of all); the file's end result is the same
  // when it is written once nothing is left to refuse.
  if (repair_result.mark_corrupt &&
      write_incompatible_features(image, h.incompatible_features | qcow2::kIncompatCorrupt).is_error()) {
    counts.check_errors++;
    if (failed == 0) failed = qcow2::kCheckEio;
  }
  if (failed == 0 && repair_result.has_rebuild) {
    // On an image qemu disabled, its leak repair after the rebuild never reaches the new blocks.
    if (repair_result.image_disabled) qcow2::restore_lowered_counts(repair_result.rebuild);
    // qemu truncated the file first to take in a refcount block outside it: the file reaches that
    // size (zeros; the last byte written makes it so) before the new structure is written.
    uint64_t truncated = repair_result.truncated_size;
    static const uint8_t kZero = 0;
    if (truncated > image.file_length() && image.write(truncated - 1, &kZero, 1).is_error()) {
      counts.check_errors++;
      failed = qcow2::kCheckEio;
    } else if (apply_rebuild(image, repair_result.rebuild, scratch).is_error()) {
      counts.check_errors++;
      failed = qcow2::kCheckEio;
    }
  }
  // Only a completed check with repair writes, and only what the plan holds.
  if (failed == 0 && repair != 0 && apply_repair(image, repair_result, scratch).is_error()) {
    counts.check_errors++;
    failed = qcow2::kCheckEio;
  }
  if (failed == 0 && repair_result.has_snapshot_move &&
      apply_snapshot_move(image, repair_result, new_table, scan.count, scratch).is_error()) {
    counts.check_errors++;
    failed = qcow2::kCheckEio;
  } else if (scan.overhanging != 0 || empty_table) {
    // The count qemu wrote before the check (and, with no entry kept, its rewrite's offset 0).
    if (write_snapshot_pointer(image, scan.count, 0, empty_table).is_error()) {
      counts.check_errors++;
      if (failed == 0) failed = qcow2::kCheckEio;
    }
  }
  // The corrupt bit cleared, the dirty bit cleared (the corrupt bit set was written above).
  const uint64_t features = final_features();
  if (!repair_result.mark_corrupt && features != h.incompatible_features &&
      write_incompatible_features(image, features).is_error()) {
    counts.check_errors++;
    if (failed == 0) failed = qcow2::kCheckEio;
  }
  if (snapshots_forgotten && features != h.incompatible_features &&
      write_snapshot_pointer(image, 0, 0, true).is_error()) {
    counts.check_errors++;
  }
  put_counts(counts, out);
  if (failed != 0) out.put_u64(kCheckFailedErrno, static_cast<uint64_t>(failed));
  if (failed == 0 && store.store.stores) out.put_u64(kCheckBitmapStore, store.store.file_size);
  if (failed == 0 && repair_result.image_disabled) out.put_bool(kCheckRepairDisabled, true);
  return ok();
}

}  // namespace

void run_check(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out) {
  if (devices.image == nullptr) {
    write_error(out, make_error(Errc::invalid, "no image device attached"));
    return;
  }
  ImageFormat format = request.format;
  if (!request.format_given) {
    auto probed = probe_device(*devices.image, request.name_tail,
                               request.qemu_major >= 8 ? ProbeOrder::qemu_10_0 : ProbeOrder::qemu_7_2);
    if (probed.is_error()) {
      write_error(out, probed.error());
      return;
    }
    format = probed.value();
  }
  switch (format) {
    case ImageFormat::raw:
      // The raw driver opens anything and has no check.
      out.put_string(kCheckFormat, "raw");
      out.put_bool(kCheckUnsupported, true);
      return;
    case ImageFormat::qcow2: {
      BlockDevice& device = *devices.image;
      const uint64_t file_size = request.check.file_size;
      const bool may_grow = (request.check.repair & kRepairErrors) != 0 || request.check.store_bitmaps;
      if (file_size != 0 && (!may_grow || file_size >= device.size())) {
        write_error(out, make_error(Errc::invalid, "a repair device larger than its file is for a rebuild only"));
        return;
      }
      GrowingImage growing(device, file_size != 0 ? file_size : device.size());
      auto result = check_qcow2(growing, device.size(), request, scratch, out);
      if (result.is_error()) write_error(out, result.error());
      return;
    }
    default:
      // qemu's driver for the format opens the file first: its error when the file is not of that format.
      write_error(out, foreign_open_error(format, *devices.image, scratch));
      return;
  }
}

}  // namespace instar
