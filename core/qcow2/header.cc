// header.cc: qcow2 header decoding and validation, in qemu's order and with its messages.
#include "core/qcow2/header.h"

#include "core/base/checked.h"
#include "core/base/span_reader.h"
#include "core/base/table.h"
#include "core/base/text.h"

namespace instar::qcow2 {

Result<Header> parse_header(ByteSpan bytes) {
  if (bytes.size < kHeaderStructSize) return make_error(Errc::truncated, "Could not read qcow2 header");
  Header h;
  if (load_u32_be(bytes, 0) != kMagic) return make_error(Errc::invalid, "Image is not in qcow2 format");
  h.version = load_u32_be(bytes, 4);
  if (h.version < 2 || h.version > 3)
    return make_error(Errc::unsupported, "Unsupported qcow2 version {}", h.version);
  h.backing_file_offset = load_u64_be(bytes, 8);
  h.backing_file_size = load_u32_be(bytes, 16);
  h.cluster_bits = load_u32_be(bytes, 20);
  h.size = load_u64_be(bytes, 24);
  h.crypt_method = load_u32_be(bytes, 32);
  h.l1_size = load_u32_be(bytes, 36);
  h.l1_table_offset = load_u64_be(bytes, 40);
  h.refcount_table_offset = load_u64_be(bytes, 48);
  h.refcount_table_clusters = load_u32_be(bytes, 56);
  h.nb_snapshots = load_u32_be(bytes, 60);
  h.snapshots_offset = load_u64_be(bytes, 64);
  if (h.cluster_bits < kMinClusterBits || h.cluster_bits > kMaxClusterBits)
    return make_error(Errc::invalid, "Unsupported cluster size: 2^{}", h.cluster_bits);

  if (h.version == 3) {
    h.incompatible_features = load_u64_be(bytes, 72);
    h.compatible_features = load_u64_be(bytes, 80);
    h.autoclear_features = load_u64_be(bytes, 88);
    h.refcount_order = load_u32_be(bytes, 96);
    h.header_length = load_u32_be(bytes, 100);
    if (h.header_length < kV3MinHeaderLength) return make_error(Errc::invalid, "qcow2 header too short");
  }
  if (h.header_length > h.cluster_size())
    return make_error(Errc::invalid, "qcow2 header exceeds cluster size");
  if (h.backing_file_offset > h.cluster_size())
    return make_error(Errc::invalid, "Invalid backing file offset");
  // The compression type byte exists only in headers long enough to hold it.
  h.compression_type = h.header_length > 104 ? bytes[104] : kCompressionZlib;
  if (h.compression_type != kCompressionZlib && h.compression_type != kCompressionZstd)
    return make_error(Errc::unsupported, "qcow2: unknown compression type: {}", h.compression_type);
  bool compression_bit = (h.incompatible_features & kIncompatCompression) != 0;
  if (h.compression_type == kCompressionZlib && compression_bit)
    return make_error(Errc::invalid, "qcow2: Compression type incompatible feature bit must not be set");
  if (h.compression_type != kCompressionZlib && !compression_bit)
    return make_error(Errc::invalid, "qcow2: Compression type incompatible feature bit must be set");
  // Unknown incompatible bits are reported by the caller, which can name them
  // from the feature table (describe_unsupported_features).
  return h;
}

namespace {

// Checks made after the unknown-feature check, in qemu's order.
Result<void> validate_after_features(const Header& h) {
  if (h.extended_l2() && h.cluster_size() / 32 < (uint64_t{1} << kMinClusterBits))
    return make_error(Errc::invalid, "Unsupported subcluster size: {}", h.cluster_size() / 32);
  if (h.refcount_order > 6)
    return make_error(Errc::invalid, "Reference count entry width too large; may not exceed 64 bits");
  return ok();
}

}  // namespace

Result<void> validate_tables(const Header& h) {
  INSTAR_TRY(validate_after_features(h));
  uint64_t cluster = h.cluster_size();
  if (h.refcount_table_clusters == 0)
    return make_error(Errc::invalid, "Image does not contain a reference count table");
  INSTAR_TRY(validate_table(h.refcount_table_offset, h.refcount_table_clusters, cluster,
                            kMaxRefcountTableBytes, cluster, "Reference count table too large",
                            "Reference count table offset invalid"));
  INSTAR_TRY(validate_table(h.snapshots_offset, h.nb_snapshots, kSnapshotHeaderSize,
                            kSnapshotHeaderSize * kMaxSnapshots, cluster, "Snapshot table too large",
                            "Snapshot table offset invalid"));
  INSTAR_TRY(validate_table(h.l1_table_offset, h.l1_size, kL1EntrySize, kMaxL1Bytes, cluster,
                            "Active L1 table too large", "Active L1 table offset invalid"));
  // Entries needed to map the virtual size: one L1 entry covers an L2 table's worth of clusters.
  uint32_t l2_entry_bits = h.extended_l2() ? 4 : 3;
  uint32_t shift = h.cluster_bits + (h.cluster_bits - l2_entry_bits);
  uint64_t needed = (h.size >> shift) + ((h.size & ((uint64_t{1} << shift) - 1)) != 0 ? 1 : 0);
  if (needed > 0x7fffffff) return make_error(Errc::too_large, "Image is too big");
  if (h.l1_size < needed) return make_error(Errc::invalid, "L1 table is too small");
  // qemu checks the encryption method only when it applies the open options, after the L1 table.
  if (h.crypt_method > kCryptLuks) {
    // qemu prints the field as an int: above INT32_MAX it is negative.
    if (h.crypt_method > 0x7fffffffu)
      return make_error(Errc::unsupported, "Unsupported encryption method -{}",
                        (uint64_t{1} << 32) - h.crypt_method);
    return make_error(Errc::unsupported, "Unsupported encryption method {}", h.crypt_method);
  }
  return ok();
}

namespace {

Result<void> walk_extensions(const Header& h, ByteSpan area, Extensions& ext) {
  uint64_t offset = 0;
  uint64_t end = area.size;
  while (offset < end) {
    if (end - offset < 8) return make_error(Errc::invalid, "Header extension too large");
    uint32_t magic = load_u32_be(area, offset);
    uint32_t len = load_u32_be(area, offset + 4);
    offset += 8;
    if (len > end - offset) return make_error(Errc::invalid, "Header extension too large");
    ByteSpan data = area.subspan(offset, len);
    switch (magic) {
      case kExtEnd:
        return ok();
      case kExtBackingFormat:
        if (len > kMaxBackingFormatLength)
          return make_error(Errc::invalid, "ERROR: ext_backing_format: len={} too large (>=16)", len);
        ext.has_backing_format = true;
        ext.backing_format = data;
        break;
      case kExtFeatureTable:
        ext.has_feature_table = true;
        ext.feature_table = data;
        break;
      case kExtCryptoHeader:
        if (h.crypt_method != kCryptLuks)
          return make_error(Errc::invalid,
                            "CRYPTO header extension only expected with LUKS encryption method");
        if (len != 16)
          return make_error(Errc::invalid, "CRYPTO header extension size {}, but expected size 16", len);
        ext.has_crypto_header = true;
        ext.crypto_header.offset = load_u64_be(data, 0);
        ext.crypto_header.length = load_u64_be(data, 8);
        if (ext.crypto_header.offset % h.cluster_size() != 0)
          return make_error(Errc::invalid,
                            "Encryption header offset '{}' is not a multiple of cluster size '{}'",
                            ext.crypto_header.offset, h.cluster_size());
        break;
      case kExtBitmaps: {
        if (len != 24) return make_error(Errc::invalid, "bitmaps_ext: Invalid extension length");
        if ((h.autoclear_features & kAutoclearBitmaps) == 0) {
          ext.bitmaps_ignored = true;
          break;
        }
        if (load_u32_be(data, 4) != 0)
          return make_error(Errc::invalid, "bitmaps_ext: Reserved field is not zero");
        BitmapsExtension b;
        b.nb_bitmaps = load_u32_be(data, 0);
        b.directory_size = load_u64_be(data, 8);
        b.directory_offset = load_u64_be(data, 16);
        if (b.nb_bitmaps > kMaxBitmaps)
          return make_error(
              Errc::invalid,
              "bitmaps_ext: Image has {} bitmaps, exceeding the QEMU supported maximum of 65535",
              b.nb_bitmaps);
        if (b.nb_bitmaps == 0) return make_error(Errc::invalid, "found bitmaps extension with zero bitmaps");
        if (!is_aligned(b.directory_offset, h.cluster_size()))
          return make_error(Errc::invalid, "bitmaps_ext: invalid bitmap directory offset");
        if (b.directory_size > kMaxBitmapDirectoryBytes)
          return make_error(
              Errc::invalid,
              "bitmaps_ext: bitmap directory size ({}) exceeds the maximum supported size (67107840)",
              b.directory_size);
        ext.has_bitmaps = true;
        ext.bitmaps = b;
        break;
      }
      case kExtDataFile:
        ext.has_data_file = true;
        ext.data_file = data;
        break;
      default:
        break;  // unknown extensions are skipped
    }
    offset += (uint64_t{len} + 7) & ~uint64_t{7};
  }
  return ok();
}

}  // namespace

Result<Extensions> parse_extensions(const Header& h, ByteSpan area) {
  Extensions ext;
  INSTAR_TRY(walk_extensions(h, area, ext));
  return ext;
}

Extensions scan_extensions(const Header& h, ByteSpan area) {
  Extensions ext;
  (void)walk_extensions(h, area, ext).is_ok();
  return ext;
}

void describe_unsupported_features(const Extensions& ext, uint64_t mask, char* out, size_t out_size) {
  TextBuilder text(out, out_size);
  text.append("Unsupported qcow2 feature(s): ");
  size_t listed = 0;
  // qemu stops at the first entry whose name is empty.
  // qemu reads the table into a zeroed buffer, so a partial last entry is zero-padded.
  for (size_t off = 0; ext.has_feature_table && off < ext.feature_table.size; off += 48) {
    uint8_t entry[48] = {};
    ByteSpan part = ext.feature_table.subspan(off, 48);
    for (size_t i = 0; i < part.size; i++) entry[i] = part[i];
    if (entry[2] == 0) break;
    uint8_t type = entry[0];
    uint64_t bit = uint64_t{1} << (entry[1] & 63);  // x86 shift semantics, as qemu's 1ULL << bit
    if (type != 0 || (mask & bit) == 0) continue;
    if (listed++ > 0) text.append(", ");
    char name[47];
    for (size_t i = 0; i < 46; i++) name[i] = static_cast<char>(entry[2 + i]);
    name[46] = '\0';
    text.append(name, 46);
    mask &= ~bit;
  }
  if (mask != 0) {
    if (listed > 0) text.append(", ");
    text.append("Unknown incompatible feature: ");
    text.append_hex(mask);
  }
}

}  // namespace instar::qcow2
