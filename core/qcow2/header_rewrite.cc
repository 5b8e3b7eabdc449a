// header_rewrite.cc: qemu's serialisation of the qcow2 header (see
// header_rewrite.h): the v3 fields, the unknown header fields, the extensions
// it knows in its own order (backing format, data file, its feature table
// when clusters are larger than 4 KiB), the unknown extensions in reverse
// (qemu keeps them in a list it prepends to), the end marker, the backing
// file name, and zeros to the end of the cluster.
#include "core/qcow2/header_rewrite.h"

#include "core/base/span_reader.h"

namespace instar::qcow2 {

namespace {

constexpr size_t kV3StructSize = 112;  // qemu's QCowHeader, padding included
constexpr size_t kExtHeaderSize = 8;
constexpr size_t kFeatureEntrySize = 48;  // type, bit, 46-byte name
constexpr uint64_t kAutoclearKnownMask = kAutoclearBitmaps | kAutoclearDataFileRaw;

struct Feature {
  uint8_t type;  // 0 incompatible, 1 compatible, 2 autoclear
  uint8_t bit;
  const char* name;
};

// The feature name table qemu 7.2 and 10.0 write (measured: their headers are identical).
constexpr Feature kQemuFeatures[] = {
    {0, 0, "dirty bit"},        {0, 1, "corrupt bit"},         {0, 2, "external data file"},
    {0, 3, "compression type"}, {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"},
    {2, 0, "bitmaps"},          {2, 1, "raw external data"},
};

class Writer {
 public:
  Writer(uint8_t* out, size_t size) : out_(out), size_(size) {}
  size_t position() const { return pos_; }
  size_t left() const { return size_ - pos_; }
  void be(size_t at, uint64_t value, size_t width) {
    for (size_t i = 0; i < width; i++) out_[at + i] = static_cast<uint8_t>(value >> (8 * (width - 1 - i)));
  }
  bool bytes(const uint8_t* data, size_t n) {
    if (n > left()) return false;
    for (size_t i = 0; i < n; i++) out_[pos_ + i] = data[i];
    pos_ += n;
    return true;
  }
  void skip(size_t n) { pos_ += n; }
  // qemu's header_ext_add: magic, length, the data padded with zeros to 8 bytes.
  bool extension(uint32_t magic, ByteSpan data) {
    size_t padded = (data.size + 7) & ~size_t{7};
    if (left() < kExtHeaderSize + padded) return false;
    be(pos_, magic, 4);
    be(pos_ + 4, data.size, 4);
    pos_ += kExtHeaderSize;
    for (size_t i = 0; i < data.size; i++) out_[pos_ + i] = data[i];
    pos_ += padded;
    return true;
  }

 private:
  uint8_t* out_;
  size_t size_;
  size_t pos_ = 0;
};

// qemu keeps a string extension as a C string: up to its first NUL.
ByteSpan c_string(ByteSpan s) {
  size_t n = 0;
  while (n < s.size && s[n] != 0) n++;
  return ByteSpan(s.data, n);
}

struct ExtensionRef {
  uint32_t magic;
  ByteSpan data;
};

}  // namespace

namespace {

enum class BitmapsMode { refuse, drop, write };

Result<void> serialise(const Header& h, ByteSpan first, uint64_t incompatible, BitmapsMode bitmaps_mode,
                       const BitmapsExtension* bitmaps, uint8_t* out, Arena& scratch) {
  const uint64_t cluster_size = h.cluster_size();
  if (h.version != 3) return make_error(Errc::unsupported, "only a version 3 header is rewritten");
  if (first.size != cluster_size || h.header_length > cluster_size || h.extensions_end() > cluster_size)
    return make_error(Errc::invalid, "the first cluster does not hold the header");
  for (size_t i = 0; i < cluster_size; i++) out[i] = 0;
  Writer w(out, static_cast<size_t>(cluster_size));

  // The extensions as qemu's open reads them: from header_length to the backing file name (or the
  // end of the cluster), up to the end marker.
  size_t known_end = h.header_length;
  size_t area_end = static_cast<size_t>(h.extensions_end());
  ByteSpan backing_format, data_file;
  bool has_backing_format = false, has_data_file_ext = false;
  size_t unknown_count = 0;
  for (int pass = 0; pass < 2; pass++) {
    ExtensionRef* unknown = nullptr;
    if (pass == 1 && unknown_count != 0) {
      INSTAR_TRY_ASSIGN(memory, scratch.allocate_array<ExtensionRef>(unknown_count));
      unknown = memory;
    }
    size_t found = 0;
    size_t at = known_end;
    while (at < area_end && area_end - at >= kExtHeaderSize) {
      uint32_t magic = static_cast<uint32_t>(load_be(first, at, 4));
      uint32_t length = static_cast<uint32_t>(load_be(first, at + 4, 4));
      at += kExtHeaderSize;
      if (magic == kExtEnd) break;
      if (length > area_end - at) return make_error(Errc::invalid, "a header extension overruns the header");
      ByteSpan data(first.data + at, length);
      at = (at + length + 7) & ~size_t{7};  // qemu aligns the file offset, not the length
      switch (magic) {
        case kExtBackingFormat:
          has_backing_format = true;
          backing_format = c_string(data);
          break;
        case kExtDataFile:
          has_data_file_ext = true;
          data_file = c_string(data);
          break;
        case kExtFeatureTable:
          break;  // qemu writes its own
        case kExtBitmaps:
          if (bitmaps_mode == BitmapsMode::refuse)
            return make_error(Errc::unsupported, "a bitmaps extension is not rewritten by instar");
          break;  // qemu writes what it holds
        case kExtCryptoHeader:
          return make_error(Errc::unsupported, "a crypto header is not rewritten by instar");
        default:
          if (pass == 1) unknown[found] = ExtensionRef{magic, data};
          found++;
          break;
      }
      if (at > area_end) break;
    }
    if (pass == 0) {
      unknown_count = found;
    } else {
      // The fixed fields.
      w.be(0, kMagic, 4);
      w.be(4, 3, 4);
      w.be(20, h.cluster_bits, 4);
      w.be(24, h.size / 512 * 512, 8);
      w.be(32, h.crypt_method, 4);
      w.be(36, h.l1_size, 4);
      w.be(40, h.l1_table_offset, 8);
      w.be(48, h.refcount_table_offset, 8);
      w.be(56, h.refcount_table_clusters, 4);
      w.be(60, h.nb_snapshots, 4);
      w.be(64, h.snapshots_offset, 8);
      w.be(kIncompatibleFeaturesOffset, incompatible, 8);
      w.be(80, h.compatible_features, 8);
      w.be(88, h.autoclear_features & kAutoclearKnownMask, 8);
      w.be(96, h.refcount_order, 4);
      size_t unknown_fields = h.header_length > kV3StructSize ? h.header_length - kV3StructSize : 0;
      w.be(100, kV3StructSize + unknown_fields, 4);
      out[104] = h.compression_type;
      w.skip(kV3StructSize);
      if (!w.bytes(first.data + kV3StructSize, unknown_fields))
        return make_error(Errc::too_large, "the header does not fit in its cluster");
      bool fits = true;
      if (has_backing_format) fits = fits && w.extension(kExtBackingFormat, backing_format);
      if ((h.incompatible_features & kIncompatDataFile) != 0 && has_data_file_ext)
        fits = fits && w.extension(kExtDataFile, data_file);
      if (cluster_size > 4096) {
        uint8_t table[sizeof kQemuFeatures / sizeof kQemuFeatures[0] * kFeatureEntrySize] = {};
        size_t t = 0;
        for (const Feature& f : kQemuFeatures) {
          table[t] = f.type;
          table[t + 1] = f.bit;
          for (size_t c = 0; f.name[c] != '\0'; c++) table[t + 2 + c] = static_cast<uint8_t>(f.name[c]);
          t += kFeatureEntrySize;
        }
        fits = fits && w.extension(kExtFeatureTable, ByteSpan(table, sizeof table));
      }
      if (bitmaps_mode == BitmapsMode::write) {
        if (unknown_count != 0)
          return make_error(Errc::unsupported, "a bitmaps extension beside an unknown one is not rewritten");
        uint8_t data[24] = {};
        Writer b(data, sizeof data);
        b.be(0, bitmaps->nb_bitmaps, 4);
        b.be(8, bitmaps->directory_size, 8);
        b.be(16, bitmaps->directory_offset, 8);
        fits = fits && w.extension(kExtBitmaps, ByteSpan(data, sizeof data));
      }
      for (size_t i = unknown_count; fits && i > 0; i--)
        fits = w.extension(unknown[i - 1].magic, unknown[i - 1].data);
      fits = fits && w.extension(kExtEnd, ByteSpan());
      if (!fits) return make_error(Errc::too_large, "the header does not fit in its cluster");
      if (h.backing_file_offset != 0) {
        // qemu keeps the backing file name as a C string too.
        uint64_t end = h.backing_file_offset + h.backing_file_size;
        if (end > cluster_size)
          return make_error(Errc::invalid, "the backing file name is outside the header");
        ByteSpan name = c_string(ByteSpan(first.data + h.backing_file_offset, h.backing_file_size));
        w.be(8, w.position(), 8);
        w.be(16, name.size, 4);
        if (!w.bytes(name.data, name.size))
          return make_error(Errc::too_large, "the header does not fit in its cluster");
      }
    }
  }
  return ok();
}

}  // namespace

Result<void> serialise_header_as_qemu(const Header& h, ByteSpan first, uint64_t incompatible, uint8_t* out,
                                      Arena& scratch) {
  return serialise(h, first, incompatible, BitmapsMode::refuse, nullptr, out, scratch);
}

Result<void> serialise_header_with_bitmaps(const Header& h, ByteSpan first, uint64_t incompatible,
                                           const BitmapsExtension* bitmaps, uint8_t* out, Arena& scratch) {
  return serialise(h, first, incompatible, bitmaps != nullptr ? BitmapsMode::write : BitmapsMode::drop,
                   bitmaps, out, scratch);
}

size_t bitmaps_extension_data_offset(const Header& h, ByteSpan first) {
  size_t at = h.header_length;
  size_t area_end = static_cast<size_t>(h.extensions_end());
  if (area_end > first.size) area_end = first.size;
  while (at < area_end && area_end - at >= kExtHeaderSize) {
    uint32_t magic = static_cast<uint32_t>(load_be(first, at, 4));
    uint32_t length = static_cast<uint32_t>(load_be(first, at + 4, 4));
    at += kExtHeaderSize;
    if (magic == kExtEnd || length > area_end - at) return 0;
    if (magic == kExtBitmaps) return length >= 24 ? at : 0;
    at = (at + length + 7) & ~size_t{7};
  }
  return 0;
}

bool header_rewrite_only_features(const Header& h, ByteSpan first, Arena& scratch) {
  auto buffer = scratch.allocate(static_cast<size_t>(h.cluster_size()));
  if (buffer.is_error() || first.size != h.cluster_size()) return false;
  uint8_t* out = buffer.value();
  if (serialise_header_as_qemu(h, first, h.incompatible_features, out, scratch).is_error()) return false;
  for (size_t i = 0; i < first.size; i++) {
    if (out[i] != first[i]) return false;
  }
  return true;
}

}  // namespace instar::qcow2
