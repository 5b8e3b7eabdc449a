// header.h: the qcow2 file header and its header extensions (layout, limits, validation).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"
#include "core/base/result.h"

namespace instar::qcow2 {

inline constexpr uint32_t kMagic = 0x514649fb;  // "QFI\xfb"
inline constexpr uint32_t kMinClusterBits = 9;
inline constexpr uint32_t kMaxClusterBits = 21;
inline constexpr size_t kHeaderStructSize =
    112;  // what qemu reads first (v3 fields + compression type + padding)
inline constexpr uint32_t kV2HeaderLength = 72;
inline constexpr uint32_t kV3MinHeaderLength = 104;
inline constexpr uint64_t kMaxRefcountTableBytes = 8ull << 20;
inline constexpr uint64_t kMaxL1Bytes = 32ull << 20;
inline constexpr uint64_t kL1EntrySize = 8;
inline constexpr uint64_t kSnapshotHeaderSize = 40;
inline constexpr uint64_t kMaxSnapshots = 65536;
inline constexpr uint32_t kMaxBitmaps = 65535;
inline constexpr uint64_t kMaxBitmapDirectoryBytes = 1024ull * kMaxBitmaps;
inline constexpr size_t kMaxBackingFormatLength = 15;  // qemu's backing_format[16]
inline constexpr size_t kMaxBackingNameLength = 1023;

// Feature bits.
inline constexpr uint64_t kIncompatDirty = 1u << 0;
inline constexpr uint64_t kIncompatCorrupt = 1u << 1;
inline constexpr uint64_t kIncompatDataFile = 1u << 2;
inline constexpr uint64_t kIncompatCompression = 1u << 3;
inline constexpr uint64_t kIncompatExtendedL2 = 1u << 4;
inline constexpr uint64_t kIncompatKnownMask = 0x1f;
inline constexpr uint64_t kCompatLazyRefcounts = 1u << 0;
inline constexpr uint64_t kAutoclearBitmaps = 1u << 0;
inline constexpr uint64_t kAutoclearDataFileRaw = 1u << 1;

inline constexpr uint32_t kCryptNone = 0;
inline constexpr uint32_t kCryptAes = 1;
inline constexpr uint32_t kCryptLuks = 2;

inline constexpr uint8_t kCompressionZlib = 0;
inline constexpr uint8_t kCompressionZstd = 1;

// Header extension magics.
inline constexpr uint32_t kExtEnd = 0;
inline constexpr uint32_t kExtBackingFormat = 0xe2792aca;
inline constexpr uint32_t kExtFeatureTable = 0x6803f857;
inline constexpr uint32_t kExtCryptoHeader = 0x0537be77;
inline constexpr uint32_t kExtBitmaps = 0x23852875;
inline constexpr uint32_t kExtDataFile = 0x44415441;

struct Header {
  uint32_t version = 0;
  uint64_t backing_file_offset = 0;
  uint32_t backing_file_size = 0;
  uint64_t size = 0;  // virtual size in bytes
  uint32_t cluster_bits = 0;
  uint32_t crypt_method = 0;
  uint64_t l1_table_offset = 0;
  uint32_t l1_size = 0;
  uint64_t refcount_table_offset = 0;
  uint32_t refcount_table_clusters = 0;
  uint64_t snapshots_offset = 0;
  uint32_t nb_snapshots = 0;
  uint64_t incompatible_features = 0;
  uint64_t compatible_features = 0;
  uint64_t autoclear_features = 0;
  uint32_t refcount_order = 4;
  uint32_t header_length = kV2HeaderLength;
  uint8_t compression_type = kCompressionZlib;

  uint64_t cluster_size() const { return uint64_t{1} << cluster_bits; }
  bool extended_l2() const { return (incompatible_features & kIncompatExtendedL2) != 0; }
  // Where the extension area ends: the backing file name, or the end of the first cluster.
  uint64_t extensions_end() const { return backing_file_offset != 0 ? backing_file_offset : cluster_size(); }
};

// Decodes and validates the fixed header the way qemu's qcow2 open does, in the
// same order, up to (not including) the table checks. `bytes` holds the first
// kHeaderStructSize bytes of the file, zero-padded past its end.
Result<Header> parse_header(ByteSpan bytes);

struct CryptoHeaderExtension {
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct BitmapsExtension {
  uint32_t nb_bitmaps = 0;
  uint64_t directory_size = 0;
  uint64_t directory_offset = 0;
};

struct Extensions {
  bool has_backing_format = false;
  ByteSpan backing_format;  // at most kMaxBackingFormatLength bytes
  bool has_feature_table = false;
  ByteSpan feature_table;  // 48-byte entries
  bool has_crypto_header = false;
  CryptoHeaderExtension crypto_header;
  bool has_bitmaps = false;      // a usable bitmaps extension (autoclear bit set)
  bool bitmaps_ignored = false;  // present, but the autoclear bit says another program touched it
  BitmapsExtension bitmaps;
  bool has_data_file = false;
  ByteSpan data_file;
};

// Walks the header extensions in `area` (the bytes [header_length, extensions_end())
// of the first cluster) as qemu does, with its messages for malformed ones.
Result<Extensions> parse_extensions(const Header& header, ByteSpan area);

// The same walk, but stopping quietly at the first malformed extension and
// keeping what came before it (qemu's walk for naming unknown features).
Extensions scan_extensions(const Header& header, ByteSpan area);

// Unknown incompatible bits, named from the feature table where it names them:
// writes qemu's "Unsupported qcow2 feature(s): ..." text into `out` (NUL-terminated, truncated to fit).
void describe_unsupported_features(const Extensions& ext, uint64_t mask, char* out, size_t out_size);

// Table and size checks qemu makes after the header (refcount table, snapshot
// table, L1 table, "Image is too big", "L1 table is too small").
Result<void> validate_tables(const Header& header);

}  // namespace instar::qcow2
