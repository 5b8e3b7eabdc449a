// info_qcow2.cc: info for qcow2, following the order of qemu's qcow2 open so
// that the first problem reported is the one qemu reports.
#include "core/base/checked.h"
#include "core/ops/info.h"
#include "core/ops/info_qcow2_metadata.h"
#include "core/ops/qcow2_open.h"
#include "core/qcow2/header.h"

namespace instar::qcow2 {

namespace {

// Reads [offset, offset + length) zero-padded past the end of the file, as
// qemu's file driver does, into scratch memory.
Result<ByteSpan> read_region(BlockDevice& image, Arena& scratch, uint64_t offset, uint64_t length) {
  if (length > SIZE_MAX) return make_error(Errc::too_large, "Cannot allocate memory");
  INSTAR_TRY_ASSIGN(buffer, scratch.allocate(static_cast<size_t>(length)));
  INSTAR_TRY(read_zero_padded(image, offset, buffer, static_cast<size_t>(length)));
  return ByteSpan(buffer, static_cast<size_t>(length));
}

// qemu keeps the backing file name as a C string: it ends at the first NUL.
ByteSpan until_nul(ByteSpan s) {
  size_t n = 0;
  while (n < s.size && s[n] != 0) n++;
  return s.subspan(0, n);
}

}  // namespace

Result<OpenedImage> open_image(BlockDevice& image, const QemuRules& rules, Arena& scratch) {
  OpenedImage o;
  uint8_t header_bytes[kHeaderStructSize];
  INSTAR_TRY(read_zero_padded(image, 0, header_bytes, sizeof header_bytes));
  INSTAR_TRY_ASSIGN(h, parse_header(ByteSpan(header_bytes, sizeof header_bytes)));

  uint64_t ext_end = h.extensions_end();
  uint64_t area_length = ext_end > h.header_length ? ext_end - h.header_length : 0;
  INSTAR_TRY_ASSIGN(area, read_region(image, scratch, h.header_length, area_length));

  uint64_t unknown = h.incompatible_features & ~kIncompatKnownMask;
  if (unknown != 0) {
    // The message outlives this frame: one open at a time per process or guest.
    static char text[512];
    describe_unsupported_features(scan_extensions(h, area), unknown, text, sizeof text);
    return make_error(Errc::unsupported, text);
  }
  INSTAR_TRY(validate_tables(h));
  INSTAR_TRY_ASSIGN(ext, parse_extensions(h, area));

  // qemu opens the LUKS header while it walks the extensions.
  INSTAR_TRY_ASSIGN(encryption, read_encryption(image, scratch, h, ext, rules));

  bool has_data_file = (h.incompatible_features & kIncompatDataFile) != 0;
  if (has_data_file && !ext.has_data_file)
    return make_error(Errc::invalid, "'data-file' is required for this image");
  bool data_file_raw = (h.autoclear_features & kAutoclearDataFileRaw) != 0;
  if (!has_data_file && data_file_raw) return make_error(Errc::invalid, "data-file-raw requires a data file");

  if (h.backing_file_offset != 0) {
    uint64_t limit = h.cluster_size() - h.backing_file_offset;
    if (limit > kMaxBackingNameLength) limit = kMaxBackingNameLength;
    if (h.backing_file_size > limit) return make_error(Errc::invalid, "Backing file name too long");
    INSTAR_TRY_ASSIGN(name, read_region(image, scratch, h.backing_file_offset, h.backing_file_size));
    o.backing_name = until_nul(name);
  }

  INSTAR_TRY_ASSIGN(snapshots, read_snapshot_table(image, scratch, h));
  INSTAR_TRY_ASSIGN(bitmaps, read_bitmap_directory(image, scratch, h, ext));
  o.header = h;
  o.ext = ext;
  if (ext.has_backing_format) o.backing_format = until_nul(ext.backing_format);
  if (ext.has_data_file) o.data_file_name = until_nul(ext.data_file);
  o.has_data_file = has_data_file;
  o.data_file_raw = data_file_raw;
  o.encryption = encryption;
  o.snapshots = snapshots;
  o.bitmaps = bitmaps;
  return o;
}

Result<void> info(BlockDevice& image, const QemuRules& rules, Arena& scratch, RecordWriter& out) {
  INSTAR_TRY_ASSIGN(o, open_image(image, rules, scratch));
  const Header& h = o.header;
  const Extensions& ext = o.ext;
  ByteSpan backing_name = o.backing_name;
  bool has_data_file = o.has_data_file;
  bool data_file_raw = o.data_file_raw;
  const EncryptionView& encryption = o.encryption;
  const SnapshotView& snapshots = o.snapshots;
  const BitmapView& bitmaps = o.bitmaps;

  out.put_string(kInfoFormat, "qcow2");
  out.put_u64(kInfoVirtualSize, h.size / 512 * 512);
  out.put_u64(kInfoClusterSize, h.cluster_size());
  out.put_bool(kInfoEncrypted, h.crypt_method != kCryptNone);
  out.put_bool(kInfoDirty, (h.incompatible_features & kIncompatDirty) != 0);
  if (backing_name.size > 0) {
    out.put_bytes(kInfoBackingName, backing_name);
    if (ext.has_backing_format) out.put_bytes(kInfoBackingFormat, until_nul(ext.backing_format));
  }
  out.put_u64(kInfoQcow2Version, h.version);
  out.put_u64(kInfoCompressionType, h.compression_type);
  out.put_bool(kInfoLazyRefcounts, (h.compatible_features & kCompatLazyRefcounts) != 0);
  out.put_bool(kInfoCorrupt, (h.incompatible_features & kIncompatCorrupt) != 0);
  out.put_bool(kInfoExtendedL2, h.extended_l2());
  out.put_u64(kInfoRefcountBits, uint64_t{1} << h.refcount_order);
  if (ext.has_data_file) out.put_bytes(kInfoDataFileName, until_nul(ext.data_file));
  if (has_data_file) {
    out.put_bool(kInfoDataFileRequired, true);
    out.put_bool(kInfoDataFileRaw, data_file_raw);
  }
  write_encryption(encryption, out);
  write_snapshots(snapshots, out);
  write_bitmaps(bitmaps, out);
  if (ext.bitmaps_ignored) {
    out.put_string(kTagWarning,
                   h.version < 3
                       ? "This qcow2 v2 image contains bitmaps, but they may have been modified by a "
                         "program without persistent bitmap support; so now they must all be "
                         "considered inconsistent"
                       : "a program lacking bitmap support modified this file, so all bitmaps are now "
                         "considered inconsistent");
  }
  return ok();
}

}  // namespace instar::qcow2
