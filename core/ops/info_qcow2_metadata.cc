// info_qcow2_metadata.cc: encryption, snapshots and bitmaps for qcow2 info.
#include "core/ops/info_qcow2_metadata.h"

#include "core/ops/info_record.h"
#include "core/qcow2/bitmap_directory.h"
#include "core/qcow2/snapshot_table.h"

namespace instar::qcow2 {

namespace {

// The bytes [offset, offset + length) that exist in the file, at most `length`:
// the table readers treat what lies past the end of the file as zeros, as qemu's reads do.
Result<ByteSpan> read_clipped(BlockDevice& image, Arena& scratch, uint64_t offset, uint64_t length) {
  uint64_t size = image.size();
  uint64_t available = offset < size ? size - offset : 0;
  if (available > length) available = length;
  INSTAR_TRY_ASSIGN(buffer, scratch.allocate(static_cast<size_t>(available)));
  if (available > 0) INSTAR_TRY(image.read(offset, buffer, static_cast<size_t>(available)));
  return ByteSpan(buffer, static_cast<size_t>(available));
}

}  // namespace

Result<EncryptionView> read_encryption(BlockDevice& image, Arena&, const Header& h, const Extensions& ext,
                                       const QemuRules& rules) {
  EncryptionView view;
  if (h.crypt_method == kCryptAes) {
    view.kind = EncryptionView::Kind::aes;
    return view;
  }
  // A LUKS image without its header extension opens (qemu does not need it without I/O), unencrypted-looking.
  if (h.crypt_method != kCryptLuks || !ext.has_crypto_header) return view;
  if (ext.crypto_header.length < kLuksHeaderBytes)
    return make_error(Errc::invalid, "Request for data outside of extension header");
  if (ext.crypto_header.offset > kQemuMaxIoOffset - kLuksHeaderBytes)
    return make_error(Errc::io, "Could not read encryption header: Input/output error");
  uint8_t header[kLuksHeaderBytes];
  INSTAR_TRY(read_zero_padded(image, ext.crypto_header.offset, header, sizeof header));
  LuksParseOptions options = rules.qemu_10 ? kLuksQemu100 : kLuksQemu72;
  auto parsed = parse_luks_header(ByteSpan(header, sizeof header), options);
  if (parsed.is_error()) {
    // The exact text may embed names from the header; it is copied into the record right away.
    static char text[256];
    format_luks_error(ByteSpan(header, sizeof header), text, sizeof text, options);
    return make_error(parsed.error().code, text);
  }
  view.kind = EncryptionView::Kind::luks;
  view.luks = parsed.value();
  return view;
}

Result<SnapshotView> read_snapshot_table(BlockDevice& image, Arena& scratch, const Header& h) {
  SnapshotView view;
  view.count = h.nb_snapshots;
  view.cluster_size = h.cluster_size();
  view.offset = h.snapshots_offset;
  if (h.nb_snapshots == 0) return view;
  INSTAR_TRY_ASSIGN(table, read_clipped(image, scratch, h.snapshots_offset, kQcow2MaxSnapshotTableBytes));
  view.table = table;
  INSTAR_TRY(Qcow2SnapshotReader(view.table, view.count, view.cluster_size, view.offset).validate());
  return view;
}

Result<BitmapView> read_bitmap_directory(BlockDevice& image, Arena& scratch, const Header& h,
                                         const Extensions& ext) {
  BitmapView view;
  if (!ext.has_bitmaps) return view;
  view.extension = ext.bitmaps;
  view.cluster_size = h.cluster_size();
  view.disk_size = h.size / 512 * 512;
  view.listed = h.version >= 3;
  INSTAR_TRY_ASSIGN(dir,
                    read_clipped(image, scratch, ext.bitmaps.directory_offset, ext.bitmaps.directory_size));
  view.directory = dir;
  Qcow2BitmapReader reader(view.directory, view.extension, view.cluster_size, view.disk_size);
  Qcow2Bitmap bitmap;
  for (;;) {
    auto more = reader.next(bitmap);
    if (more.is_error()) {
      static char text[512];
      reader.format_error(text, sizeof text);
      return make_error(more.error().code, text);
    }
    if (!more.value()) break;
  }
  return view;
}

void write_encryption(const EncryptionView& view, RecordWriter& out) {
  if (view.kind == EncryptionView::Kind::none) return;
  out.begin(kInfoEncryption);
  if (view.kind == EncryptionView::Kind::aes) {
    out.put_string(kInfoEncryptionFormat, "aes");
    out.end(kInfoEncryption);
    return;
  }
  const LuksInfo& l = view.luks;
  out.put_string(kInfoEncryptionFormat, "luks");
  out.put_string(kInfoLuksCipherAlg, l.cipher_alg);
  out.put_string(kInfoLuksCipherMode, l.cipher_mode);
  out.put_string(kInfoLuksIvgenAlg, l.ivgen_alg);
  if (l.has_ivgen_hash_alg) out.put_string(kInfoLuksIvgenHashAlg, l.ivgen_hash_alg);
  out.put_string(kInfoLuksHashAlg, l.hash_alg);
  out.put_u64(kInfoLuksPayloadOffset, l.payload_offset_bytes);
  out.put_u64(kInfoLuksMasterKeyIters, l.master_key_iters);
  out.put_string(kInfoLuksUuid, l.uuid);
  for (const LuksSlot& slot : l.slots) {
    out.begin(kInfoLuksSlot);
    out.put_bool(kInfoLuksSlotActive, slot.active);
    if (slot.active) {
      out.put_u64(kInfoLuksSlotIters, slot.iters);
      out.put_u64(kInfoLuksSlotStripes, slot.stripes);
    }
    out.put_u64(kInfoLuksSlotKeyOffset, slot.key_offset_bytes);
    out.end(kInfoLuksSlot);
  }
  out.end(kInfoEncryption);
}

void write_snapshots(const SnapshotView& view, RecordWriter& out) {
  if (view.count == 0) return;
  Qcow2SnapshotReader reader(view.table, view.count, view.cluster_size, view.offset);
  Qcow2Snapshot s;
  for (;;) {
    auto more = reader.next(s);
    if (more.is_error() || !more.value()) break;  // validated in read_snapshot_table
    out.begin(kInfoSnapshot);
    out.put_bytes(kInfoSnapshotId, s.id);
    out.put_bytes(kInfoSnapshotName, s.name);
    out.put_u64(kInfoSnapshotVmStateSize, s.vm_state_size);
    out.put_u64(kInfoSnapshotDateSec, s.date_sec);
    out.put_u64(kInfoSnapshotDateNsec, s.date_nsec);
    out.put_u64(kInfoSnapshotVmClockNsec, s.vm_clock_nsec);
    if (s.has_icount && s.icount != UINT64_MAX) out.put_u64(kInfoSnapshotIcount, s.icount);
    out.end(kInfoSnapshot);
  }
}

void write_bitmaps(const BitmapView& view, RecordWriter& out) {
  if (!view.listed) return;
  Qcow2BitmapReader reader(view.directory, view.extension, view.cluster_size, view.disk_size);
  Qcow2Bitmap b;
  for (;;) {
    auto more = reader.next(b);
    if (more.is_error() || !more.value()) break;  // validated in read_bitmap_directory
    out.begin(kInfoBitmap);
    out.put_bytes(kInfoBitmapName, b.name);
    out.put_u64(kInfoBitmapGranularity, uint64_t{1} << b.granularity_bits);
    out.put_u64(kInfoBitmapFlags, b.flags);
    out.end(kInfoBitmap);
  }
}

}  // namespace instar::qcow2
