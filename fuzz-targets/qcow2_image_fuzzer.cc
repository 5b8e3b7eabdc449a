// qcow2_image_fuzzer.cc: structure-aware info: the input describes a qcow2 image, which is built with a
// plausible header and fixed-up table positions, so mutations reach the extensions, snapshot table, bitmap
// directory and LUKS header instead of dying at the magic.
//
// Input (docs/fuzzing.md, "qcow2_image"): a stream of values taken in order by InputReader (zeros past the
// end, so every input builds an image; the empty input is a bare v2 image), then up to 8 pokes that
// overwrite any byte of the built image, so hostile values still get through.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/ops/execute.h"
#include "core/qcow2/header.h"
#include "fuzz-targets/fuzz_support.h"
#include "fuzz-targets/info_checks.h"

namespace {

using instar::ByteSpan;
using instar::fuzz::InputReader;
namespace q = instar::qcow2;

// The image lives here; at most 1 MiB of it is used (as the other targets' inputs), cleared per input.
constexpr size_t kMaxImageBytes = 1u << 20;
uint8_t g_image[kMaxImageBytes];

// Writes into the image being built, big-endian; whatever lies outside it is dropped.
class ImageBuilder {
 public:
  ImageBuilder(uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t size() const { return size_; }
  void be(uint64_t at, uint64_t value, unsigned width) {
    for (unsigned i = 0; i < width; i++) byte(at + i, static_cast<uint8_t>(value >> (8 * (width - 1 - i))));
  }
  void byte(uint64_t at, uint8_t value) {
    if (at < size_) data_[at] = value;
  }
  void bytes(uint64_t at, ByteSpan s) {
    for (size_t i = 0; i < s.size; i++) byte(at + i, s.data[i]);
  }
  void text(uint64_t at, const char* s) {
    bytes(at, ByteSpan(reinterpret_cast<const uint8_t*>(s), std::strlen(s)));
  }

 private:
  uint8_t* data_;
  size_t size_;
};

constexpr uint64_t align8(uint64_t v) { return (v + 7) & ~uint64_t{7}; }

// Extension kinds the input chooses from; "unknown" carries a magic qemu skips.
enum Ext : uint8_t { kBackingFormat, kFeatureTable, kCryptoHeader, kBitmaps, kDataFile, kUnknown, kExtKinds };

const char* const kLuksCiphers[] = {"aes", "twofish", "serpent", "cast5", "des"};
const char* const kLuksModes[] = {"xts-plain64", "cbc-essiv:sha256", "ctr-plain",
                                  "ecb",         "cbc-plain",        "xts-essiv:sha1"};
const char* const kLuksHashes[] = {"sha256", "sha1", "sha512", "ripemd160", "md5"};

// A LUKS1 header at `at`: the names from the lists, slots with qemu's stripes and key material past the
// header unless the input says otherwise.
void build_luks(ImageBuilder& image, InputReader& in, uint64_t at) {
  static constexpr uint8_t kMagic[6] = {'L', 'U', 'K', 'S', 0xba, 0xbe};
  image.bytes(at, ByteSpan(kMagic, sizeof kMagic));
  image.be(at + 6, 1 + (in.u8() % 8 == 0 ? 1 : 0), 2);
  image.text(at + 8, kLuksCiphers[in.u8() % 5]);
  image.text(at + 40, kLuksModes[in.u8() % 6]);
  image.text(at + 72, kLuksHashes[in.u8() % 5]);
  uint8_t key_choice = in.u8();
  uint32_t key_bytes = key_choice < 200 ? 16u << (key_choice % 2) : key_choice;
  image.be(at + 108, key_bytes, 4);
  image.be(at + 164, 1 + in.u16(), 4);  // master key digest iterations
  image.text(at + 168, "00000000-0000-4000-8000-000000000000");
  uint32_t split_sectors = (key_bytes * 4000 + 511) / 512;
  uint32_t key_offset = 8;  // sectors: the key material starts past the 4 KiB header
  for (unsigned i = 0; i < 8; i++) {
    uint64_t slot = at + 208 + 48 * i;
    uint8_t choice = in.u8();
    image.be(slot, (choice & 1) != 0 ? 0x00ac71f3 : 0x0000dead, 4);
    image.be(slot + 4, (choice & 2) != 0 ? 1000 + in.u16() : 0, 4);
    image.be(slot + 40, (choice & 0x40) != 0 ? in.u32() : key_offset, 4);
    image.be(slot + 44, (choice & 0x80) != 0 ? in.u16() : 4000, 4);
    key_offset += (split_sectors + 7) / 8 * 8;
  }
  uint8_t payload_choice = in.u8();
  image.be(at + 104, payload_choice == 0xff ? in.u32() : payload_choice == 0xfe ? 0 : key_offset, 4);
}

// Builds the image described by the input into g_image and returns its size.
size_t build_image(InputReader& in) {
  uint32_t version = 2 + (in.u8() & 1);
  uint32_t cluster_bits = q::kMinClusterBits + in.u8() % (q::kMaxClusterBits - q::kMinClusterBits + 1);
  uint64_t cluster = uint64_t{1} << cluster_bits;
  // Clusters: 0 header, 1 L1, 2 refcount table, 3 refcount block, then tables the input places among 4..n-1.
  uint64_t clusters = 4 + in.u8() % 13;
  // A table past the end of the file reads as zeros (2 MiB clusters leave just the header's); sometimes the
  // file is cut anywhere.
  uint64_t file_size = clusters * cluster < kMaxImageBytes ? clusters * cluster : kMaxImageBytes;
  uint8_t cut = in.u8();
  if (cut >= 0xf0) file_size = file_size * (cut - 0xef) / 17;
  std::memset(g_image, 0, file_size);
  ImageBuilder image(g_image, file_size);
  auto place = [&](uint8_t choice) { return (4 + choice % (clusters > 4 ? clusters - 4 : 1)) * cluster; };

  // Virtual size: up to what one L1 cluster maps, so the L1 table fits cluster 1.
  uint64_t l2_entries = cluster / 8;
  uint64_t max_l1 = cluster / 8;
  uint64_t sectors = in.u32() % ((max_l1 * l2_entries * cluster) / 512 + 1);
  uint64_t disk_size = sectors * 512;
  uint64_t l1_size = (disk_size + l2_entries * cluster - 1) / (l2_entries * cluster);

  uint8_t features = in.u8();
  uint32_t crypt = (features & 0xc0) == 0xc0   ? q::kCryptLuks
                   : (features & 0xc0) == 0x80 ? q::kCryptAes
                                               : q::kCryptNone;
  uint64_t incompatible = version == 3 ? (features & 0x13) : 0;  // dirty, corrupt, extended L2
  uint64_t compatible = version == 3 ? (features >> 2) & 1 : 0;
  uint8_t compression = version == 3 ? (features >> 3) & 1 : 0;
  if (compression != 0) incompatible |= q::kIncompatCompression;
  uint32_t refcount_order = version == 3 ? in.u8() % 7 : 4;
  uint32_t header_length = version == 3 ? ((in.u8() & 1) != 0 ? 112 : 104) : q::kV2HeaderLength;
  uint32_t nb_snapshots = in.u8() % 5;
  uint64_t snapshots_offset = nb_snapshots > 0 ? place(in.u8()) : 0;

  // Header extensions after the header, each padded to 8 bytes; the backing file name follows them.
  uint64_t at = header_length;
  uint64_t autoclear = 0;
  uint64_t crypto_offset = 0;
  uint32_t nb_bitmaps = 0;
  uint64_t directory_offset = 0;
  uint8_t extension_count = in.u8() % 6;
  for (uint8_t e = 0; e < extension_count && at + 8 < cluster; e++) {
    uint8_t kind = in.u8() % kExtKinds;
    uint64_t data = at + 8;
    uint32_t length = 0;
    switch (kind) {
      case kBackingFormat: {
        const char* formats[] = {"qcow2", "raw", "vmdk", "a-sixteen-bytes!"};
        uint8_t f = in.u8() % 4;
        image.be(at, q::kExtBackingFormat, 4);
        image.text(data, formats[f]);
        length = static_cast<uint32_t>(std::strlen(formats[f]));
        break;
      }
      case kFeatureTable: {
        uint8_t entries = in.u8() % 4;
        image.be(at, q::kExtFeatureTable, 4);
        for (uint8_t i = 0; i < entries; i++) {
          image.byte(data + 48 * i, in.u8() % 3);       // incompatible, compatible, autoclear
          image.byte(data + 48 * i + 1, in.u8() % 64);  // bit
          image.bytes(data + 48 * i + 2, in.bytes(in.u8() % 47));
        }
        length = 48u * entries;
        break;
      }
      case kCryptoHeader:
        crypto_offset = place(in.u8());
        image.be(at, q::kExtCryptoHeader, 4);
        image.be(data, crypto_offset, 8);
        image.be(data + 8, (in.u8() & 1) != 0 ? 4096 + 512 * 8 * 4000 : in.u32(), 8);
        length = 16;
        break;
      case kBitmaps:
        nb_bitmaps = 1 + in.u8() % 4;
        directory_offset = place(in.u8());
        autoclear |= (in.u8() % 8 != 0) ? q::kAutoclearBitmaps : 0;
        image.be(at, q::kExtBitmaps, 4);
        image.be(data, nb_bitmaps, 4);
        // directory size is written once the directory is built
        image.be(data + 16, directory_offset, 8);
        length = 24;
        break;
      case kDataFile: {
        ByteSpan name = in.bytes(1 + in.u8() % 16);
        image.be(at, q::kExtDataFile, 4);
        image.bytes(data, name);
        length = static_cast<uint32_t>(name.size);
        if ((in.u8() & 1) != 0) incompatible |= q::kIncompatDataFile;
        break;
      }
      default: {
        ByteSpan payload = in.bytes(in.u8() % 32);
        image.be(at, 0x12345678u + in.u8(), 4);
        image.bytes(data, payload);
        length = static_cast<uint32_t>(payload.size);
        break;
      }
    }
    image.be(at + 4, length, 4);
    at = data + align8(length);
  }
  uint64_t bitmaps_ext_at = 0;
  // Find the bitmaps extension again to patch its size (within the file: past a cut, g_image holds stale
  // bytes).
  for (uint64_t p = header_length; p + 8 <= at && p + 8 <= file_size;) {
    uint32_t magic =
        static_cast<uint32_t>(g_image[p] << 24 | g_image[p + 1] << 16 | g_image[p + 2] << 8 | g_image[p + 3]);
    uint32_t len = static_cast<uint32_t>(g_image[p + 4] << 24 | g_image[p + 5] << 16 | g_image[p + 6] << 8 |
                                         g_image[p + 7]);
    if (magic == q::kExtBitmaps) bitmaps_ext_at = p;
    p += 8 + align8(len);
  }
  at += 8;  // the end-of-extensions marker (zeros)

  uint64_t backing_offset = 0;
  uint32_t backing_size = 0;
  uint8_t backing_choice = in.u8();
  if ((backing_choice & 3) == 3 && at < cluster) {
    ByteSpan name = in.bytes(1 + in.u8() % 64);
    backing_offset = at;
    backing_size = static_cast<uint32_t>(name.size);
    image.bytes(at, name);
  }

  image.be(0, q::kMagic, 4);
  image.be(4, version, 4);
  image.be(8, backing_offset, 8);
  image.be(16, backing_size, 4);
  image.be(20, cluster_bits, 4);
  image.be(24, disk_size, 8);
  image.be(32, crypt, 4);
  image.be(36, l1_size, 4);
  image.be(40, 1 * cluster, 8);
  image.be(48, 2 * cluster, 8);
  image.be(56, 1, 4);
  image.be(60, nb_snapshots, 4);
  image.be(64, snapshots_offset, 8);
  if (version == 3) {
    image.be(72, incompatible, 8);
    image.be(80, compatible, 8);
    image.be(88, autoclear, 8);
    image.be(96, refcount_order, 4);
    image.be(100, header_length, 4);
    if (header_length >= 112) image.byte(104, compression);
  }

  // L1 and refcount tables: allocated entries point at clusters of the file (core reads them in later
  // operations; info checks only their position).
  for (uint64_t i = 0; i < l1_size && i < 4; i++)
    image.be(cluster + 8 * i, (uint64_t{1} << 63) | place(in.u8()), 8);
  image.be(2 * cluster, 3 * cluster, 8);

  // Snapshot table: entries with ids, names and extra data; L1 tables at clusters.
  uint64_t s = snapshots_offset;
  for (uint32_t i = 0; i < nb_snapshots; i++) {
    uint8_t shape = in.u8();
    uint32_t extra = (shape & 3) == 3 ? in.u16() % 1100 : (shape & 3) * 8 + 8;
    ByteSpan id = in.bytes(1 + in.u8() % 8);
    ByteSpan name = in.bytes(in.u8() % 24);
    image.be(s, (shape & 4) != 0 ? in.u64() : place(in.u8()), 8);
    image.be(s + 8, (shape & 8) != 0 ? in.u32() : l1_size, 4);
    image.be(s + 12, id.size, 2);
    image.be(s + 14, name.size, 2);
    image.be(s + 16, in.u32(), 4);
    image.be(s + 20, in.u32() % 1000000000, 4);
    image.be(s + 24, in.u64(), 8);
    image.be(s + 32, in.u32(), 4);
    image.be(s + 36, extra, 4);
    for (uint32_t x = 0; x + 8 <= extra && x < 24; x += 8)
      image.be(s + 40 + x, x == 8 ? disk_size : in.u64(), 8);
    image.bytes(s + 40 + extra, id);
    image.bytes(s + 40 + extra + id.size, name);
    s = align8(s + 40 + extra + id.size + name.size);
  }

  // Bitmap directory: entries of type 1 with tables at clusters, then its size into the extension.
  uint64_t d = directory_offset;
  for (uint32_t i = 0; i < nb_bitmaps; i++) {
    uint8_t shape = in.u8();
    ByteSpan name = in.bytes(1 + in.u8() % 16);
    uint32_t extra = (shape & 0x10) != 0 ? 8 * (in.u8() % 4) : 0;
    uint64_t table = place(in.u8());
    image.be(d, table, 8);
    image.be(d + 8, (shape & 0x20) != 0 ? in.u32() : 1 + in.u8() % 4, 4);
    image.be(d + 12, shape & 3, 4);  // flags: in use, auto
    image.byte(d + 16, (shape & 0x40) != 0 ? in.u8() : 1);
    image.byte(d + 17, (shape & 0x80) != 0 ? in.u8() : 16 + in.u8() % 8);
    image.be(d + 18, name.size, 2);
    image.be(d + 20, extra, 4);
    image.bytes(d + 24 + extra, name);
    d = align8(d + 24 + extra + name.size);
    for (unsigned t = 0; t < 4; t++)
      image.be(table + 8 * t, (in.u8() & 1) != 0 ? place(in.u8()) : in.u8() & 1, 8);
  }
  if (bitmaps_ext_at != 0) image.be(bitmaps_ext_at + 8 + 8, d - directory_offset, 8);

  if (crypt == q::kCryptLuks && crypto_offset != 0) build_luks(image, in, crypto_offset);

  // Pokes: any byte anywhere, so that every field can still take any value.
  uint8_t pokes = in.u8() % 9;
  for (uint8_t p = 0; p < pokes && file_size > 0; p++) {
    uint32_t where = in.u32();
    image.byte(where % file_size, in.u8());
  }
  return file_size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  InputReader in(ByteSpan(data, size));
  uint8_t selector = in.u8();
  size_t image_size = build_image(in);

  instar::Request request;
  request.operation = instar::Operation::info;
  bool qemu_10 = (selector & 1) != 0;
  request.qemu_major = qemu_10 ? 10 : 7;
  request.qemu_minor = qemu_10 ? 0 : 2;
  std::memcpy(request.name_tail, "disk.qcow2", sizeof "disk.qcow2");
  // Probing a qcow2 image finds qcow2 (a poke may break the magic: then forced qcow2 is what is left).
  request.format_given = true;
  request.format = instar::ImageFormat::qcow2;
  instar::fuzz::info_checks::run_and_check(request, ByteSpan(g_image, image_size), instar::ImageFormat::qcow2,
                                           false);
  return 0;
}
