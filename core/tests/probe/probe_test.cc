// probe_test.cc: format probing against byte images that qemu-img 7.2 and 10.0 were checked on.
#include "core/probe/probe.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/io/memory_block_device.h"

namespace instar {
namespace {

using Bytes = std::vector<uint8_t>;

// qemu-img 7.2 create -f qcow2 (compat=1.1) ... 1M: the first 72 bytes.
constexpr uint8_t kQcow2V3Head[] = {
    0x51, 0x46, 0x49, 0xfb, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// qemu-img 7.2 create -f qcow2 -o compat=0.10 ... 1M: the first 72 bytes.
constexpr uint8_t kQcow2V2Head[] = {
    0x51, 0x46, 0x49, 0xfb, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// qemu-img 7.2 create -f qcow ... 1M: the first 72 bytes.
constexpr uint8_t kQcowHead[] = {
    0x51, 0x46, 0x49, 0xfb, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x00, 0x00, 0x0c, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// qemu-img 7.2 create -f vmdk ... 1M: the first 72 bytes.
constexpr uint8_t kVmdkHead[] = {
    0x4b, 0x44, 0x4d, 0x56, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// qemu-img 7.2 create -f vpc ... 1M: the first 72 bytes.
constexpr uint8_t kVpcHead[] = {
    0x63, 0x6f, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x78, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x32, 0x94, 0xe2, 0x77, 0x71, 0x65,
    0x6d, 0x75, 0x00, 0x05, 0x00, 0x03, 0x57, 0x69, 0x32, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x10, 0x78, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x78, 0x00, 0x00, 0x1f, 0x04, 0x11,
    0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0xee, 0xd6, 0xe0, 0x98, 0x61, 0x0d,
};
// qemu-img 7.2 create -f vhdx ... 1M: the first 72 bytes.
constexpr uint8_t kVhdxHead[] = {
    0x76, 0x68, 0x64, 0x78, 0x66, 0x69, 0x6c, 0x65, 0x51, 0x00, 0x45, 0x00, 0x4d, 0x00, 0x55,
    0x00, 0x20, 0x00, 0x76, 0x00, 0x37, 0x00, 0x2e, 0x00, 0x32, 0x00, 0x2e, 0x00, 0x32, 0x00,
    0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// qemu-img 7.2 create -f vdi ... 1M: the first 72 bytes.
constexpr uint8_t kVdiHead[] = {
    0x3c, 0x3c, 0x3c, 0x20, 0x51, 0x45, 0x4d, 0x55, 0x20, 0x56, 0x4d, 0x20, 0x56, 0x69, 0x72,
    0x74, 0x75, 0x61, 0x6c, 0x20, 0x44, 0x69, 0x73, 0x6b, 0x20, 0x49, 0x6d, 0x61, 0x67, 0x65,
    0x20, 0x3e, 0x3e, 0x3e, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x7f, 0x10, 0xda, 0xbe, 0x01, 0x00, 0x01, 0x00,
};
// qemu-img 7.2 create -f qed ... 1M: the first 72 bytes.
constexpr uint8_t kQedHead[] = {
    0x51, 0x45, 0x44, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// qemu-img 7.2 create -f luks --object secret,id=s0,data=x -o key-secret=s0 ... 1M: the first 72 bytes.
constexpr uint8_t kLuksHead[] = {
    0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe, 0x00, 0x01, 0x61, 0x65, 0x73, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78, 0x74, 0x73, 0x2d, 0x70,
    0x6c, 0x61, 0x69, 0x6e, 0x36, 0x34, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// qemu-img 7.2 create -f parallels ... 1M: the first 72 bytes.
constexpr uint8_t kParallelsHead[] = {
    0x57, 0x69, 0x74, 0x68, 0x6f, 0x75, 0x46, 0x72, 0x65, 0x53, 0x70, 0x61, 0x63, 0x45, 0x78,
    0x74, 0x02, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x08,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

// A qemu-img 7.2 `create -f vmdk -o subformat=monolithicFlat` descriptor (its first lines).
constexpr char kFlatDescriptor[] =
    "# Disk DescriptorFile\n"
    "version=1\n"
    "CID=b2db856c\n"
    "parentCID=ffffffff\n"
    "createType=\"monolithicFlat\"\n"
    "\n"
    "# Extent description\n"
    "RW 2048 FLAT \"img-flat.vmdkflat\" 0\n";

constexpr char kCloopMagic[] =
    "#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n";

Bytes from(const uint8_t* data, size_t size) { return Bytes(data, data + size); }
template <size_t N>
Bytes from(const uint8_t (&data)[N]) {
  return from(data, N);
}
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

void put(Bytes& image, size_t offset, const void* data, size_t size) {
  if (image.size() < offset + size) image.resize(offset + size);
  std::memcpy(image.data() + offset, data, size);
}
void put_text(Bytes& image, size_t offset, const char* s) { put(image, offset, s, std::strlen(s)); }
void put_le32(Bytes& image, size_t offset, uint32_t v) {
  uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
  put(image, offset, b, 4);
}
void put_be32(Bytes& image, size_t offset, uint32_t v) {
  uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
  put(image, offset, b, 4);
}
void put_be16(Bytes& image, size_t offset, uint16_t v) {
  uint8_t b[2] = {uint8_t(v >> 8), uint8_t(v)};
  put(image, offset, b, 2);
}

// Probes `image` as a whole file of its own size.
ImageFormat probe(const Bytes& image, const char* filename = "image",
                  ProbeOrder order = ProbeOrder::qemu_7_2) {
  return probe_image_format(ByteSpan(image.data(), image.size()), image.size(), filename, order);
}
ImageFormat probe10(const Bytes& image, const char* filename = "image") {
  return probe(image, filename, ProbeOrder::qemu_10_0);
}

// A growing Bochs redolog with a one-entry catalog (what qemu's bochs driver opens).
Bytes bochs_image(uint32_t version) {
  Bytes image(512, 0);
  put(image, 0, "Bochs Virtual HD Image", 23);  // with its NUL
  put(image, 32, "Redolog", 8);
  put(image, 48, "Growing", 8);
  put_le32(image, 64, version);
  put_le32(image, 68, 512);   // header size
  put_le32(image, 72, 1);     // catalog entries
  put_le32(image, 76, 512);   // bitmap size
  put_le32(image, 80, 4096);  // extent size
  put_le32(image, 92, 4096);  // disk size (low half)
  put_le32(image, 512, 0xffffffff);
  return image;
}

// A cloop V2.0 image: preamble, block size 512, one block, two offsets.
Bytes cloop_image() {
  Bytes image(128, 0);
  put_text(image, 0, kCloopMagic);
  put_be32(image, 128, 512);
  put_be32(image, 132, 1);
  Bytes offsets(16, 0);
  offsets[7] = 152;
  offsets[15] = 152;
  put(image, 136, offsets.data(), offsets.size());
  return image;
}

// A vmdk text descriptor body after the version line.
const char kDescriptorTail[] = "CID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n";

// `prefix`, then "version=1" + newline, then the rest of a descriptor.
Bytes descriptor_after(const std::string& prefix, const char* newline = "\n", char digit = '1') {
  return text(prefix + "version=" + digit + newline + kDescriptorTail);
}
// One '#' comment line of exactly `length` bytes including its newline.
std::string comment_line(size_t length) { return "#" + std::string(length - 2, 'c') + "\n"; }

// --- names ------------------------------------------------------------------------------

TEST(ProbeNames, RoundTripEveryFormat) {
  for (size_t i = 0; i < kImageFormatCount; i++) {
    ImageFormat f = static_cast<ImageFormat>(i);
    ImageFormat back = ImageFormat::raw;
    ASSERT_TRUE(image_format_from_name(image_format_name(f), back)) << image_format_name(f);
    EXPECT_EQ(back, f);
  }
}

TEST(ProbeNames, AreQemuDriverNames) {
  EXPECT_STREQ(image_format_name(ImageFormat::raw), "raw");
  EXPECT_STREQ(image_format_name(ImageFormat::qcow2), "qcow2");
  EXPECT_STREQ(image_format_name(ImageFormat::qcow), "qcow");
  EXPECT_STREQ(image_format_name(ImageFormat::vmdk), "vmdk");
  EXPECT_STREQ(image_format_name(ImageFormat::vpc), "vpc");
  EXPECT_STREQ(image_format_name(ImageFormat::vhdx), "vhdx");
  EXPECT_STREQ(image_format_name(ImageFormat::vdi), "vdi");
  EXPECT_STREQ(image_format_name(ImageFormat::qed), "qed");
  EXPECT_STREQ(image_format_name(ImageFormat::luks), "luks");
  EXPECT_STREQ(image_format_name(ImageFormat::parallels), "parallels");
  EXPECT_STREQ(image_format_name(ImageFormat::bochs), "bochs");
  EXPECT_STREQ(image_format_name(ImageFormat::cloop), "cloop");
  EXPECT_STREQ(image_format_name(ImageFormat::dmg), "dmg");
}

TEST(ProbeNames, RejectsUnknownNamesAndLeavesOutAlone) {
  ImageFormat out = ImageFormat::vdi;
  EXPECT_FALSE(image_format_from_name("QCOW2", out));
  EXPECT_FALSE(image_format_from_name("qcow3", out));
  EXPECT_FALSE(image_format_from_name("qcow22", out));
  EXPECT_FALSE(image_format_from_name("", out));
  EXPECT_FALSE(image_format_from_name("file", out));
  EXPECT_FALSE(image_format_from_name(nullptr, out));
  EXPECT_EQ(out, ImageFormat::vdi);
}

// --- raw, empty and short files ---------------------------------------------------------

TEST(ProbeRaw, ZerosAreRaw) { EXPECT_EQ(probe(Bytes(4096, 0)), ImageFormat::raw); }

TEST(ProbeRaw, TextIsRaw) { EXPECT_EQ(probe(text("hello, world\n")), ImageFormat::raw); }

TEST(ProbeRaw, RawScoresOneWhatever) {
  EXPECT_EQ(image_format_probe_score(ImageFormat::raw, ByteSpan(), nullptr), 1);
  EXPECT_EQ(image_format_probe_score(ImageFormat::raw, ByteSpan(kQcow2V3Head, sizeof kQcow2V3Head), "x"), 1);
}

TEST(ProbeEmpty, ZeroLengthFileIsRawEvenWithDmgName) {
  EXPECT_EQ(probe_image_format(ByteSpan(), 0, "empty.dmg"), ImageFormat::raw);
  // qemu does not even read an empty file, so whatever the head holds does not matter.
  EXPECT_EQ(probe_image_format(ByteSpan(kQcow2V3Head, sizeof kQcow2V3Head), 0, "x"), ImageFormat::raw);
}

TEST(ProbeShort, OneByteFileIsRaw) { EXPECT_EQ(probe(Bytes{0x01}), ImageFormat::raw); }

TEST(ProbeShort, HeadIsZeroPaddedToTheProbeBuffer) {
  // "QED" alone: the zero fill supplies the fourth magic byte.
  EXPECT_EQ(probe(text("QED")), ImageFormat::qed);
  // "QFI\xfb" alone: version 0 after padding, which neither qcow driver takes.
  EXPECT_EQ(probe(Bytes{0x51, 0x46, 0x49, 0xfb}), ImageFormat::raw);
  EXPECT_EQ(probe(Bytes{0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3}), ImageFormat::qcow2);
  EXPECT_EQ(probe(Bytes{0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 1}), ImageFormat::qcow);
  EXPECT_EQ(probe(text("conectix")), ImageFormat::vpc);
  EXPECT_EQ(probe(text("conecti")), ImageFormat::raw);
  EXPECT_EQ(probe(text("vhdxfile")), ImageFormat::vhdx);
  EXPECT_EQ(probe(text("KDMV")), ImageFormat::vmdk);
  EXPECT_EQ(probe(text("KDM")), ImageFormat::raw);
  EXPECT_EQ(probe(Bytes{'L', 'U', 'K', 'S', 0xba, 0xbe, 0, 1}), ImageFormat::luks);
  Bytes parallels = text("WithoutFreeSpace");
  put_le32(parallels, 16, 2);
  EXPECT_EQ(probe(parallels), ImageFormat::parallels);
}

TEST(ProbeShort, BochsHeaderCutAt511BytesStillProbes) {
  Bytes image = bochs_image(0x00020000);
  image.resize(511);
  EXPECT_EQ(probe(image), ImageFormat::bochs);
}

TEST(ProbeShort, OnlyTheFirst512BytesCount) {
  Bytes image(2048, 0);
  put_le32(image, 512 + 64, 0xbeda107f);  // a vdi signature one sector too late
  put_text(image, 512, "QFI\xfb");
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

TEST(ProbeDevice, ProbesThroughADevice) {
  MemoryBlockDevice device(kQcow2V3Head, sizeof kQcow2V3Head);
  Result<ImageFormat> r = probe_device(device, "img.qcow2");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value(), ImageFormat::qcow2);
}

TEST(ProbeDevice, EmptyDeviceIsRaw) {
  MemoryBlockDevice device(nullptr, 0);
  Result<ImageFormat> r = probe_device(device, "empty.dmg");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value(), ImageFormat::raw);
}

TEST(ProbeDevice, UsesTheRequestedOrder) {
  Bytes image = from(kVpcHead);
  put_le32(image, 64, 0xbeda107f);
  MemoryBlockDevice device(image.data(), image.size());
  EXPECT_EQ(probe_device(device, "x", ProbeOrder::qemu_7_2).value(), ImageFormat::vdi);
  EXPECT_EQ(probe_device(device, "x", ProbeOrder::qemu_10_0).value(), ImageFormat::vpc);
}

class FailingDevice final : public BlockDevice {
 public:
  uint64_t size() const override { return 4096; }
  Result<void> read(uint64_t, void*, size_t) override { return make_error(Errc::io, "read failed"); }
  Result<void> write(uint64_t, const void*, size_t) override { return make_error(Errc::io, "read-only"); }
};

TEST(ProbeDevice, PassesReadErrorsOn) {
  FailingDevice device;
  Result<ImageFormat> r = probe_device(device, "x");
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.error().code, Errc::io);
}

// --- qcow2 and qcow ---------------------------------------------------------------------

TEST(ProbeQcow2, QemuImgImagesAreQcow2) {
  EXPECT_EQ(probe(from(kQcow2V3Head)), ImageFormat::qcow2);
  EXPECT_EQ(probe(from(kQcow2V2Head)), ImageFormat::qcow2);
  EXPECT_EQ(image_format_probe_score(ImageFormat::qcow2, ByteSpan(kQcow2V3Head, sizeof kQcow2V3Head), "x"),
            100);
}

TEST(ProbeQcow2, AnyVersionFromTwoUpIsQcow2) {
  // qemu opens these with qcow2 and only then refuses "Unsupported qcow2 version".
  for (uint32_t version : {4u, 5u, 0xffffffffu}) {
    Bytes image = from(kQcow2V3Head);
    put_be32(image, 4, version);
    EXPECT_EQ(probe(image), ImageFormat::qcow2) << version;
  }
}

TEST(ProbeQcow, VersionOneIsQcow) {
  EXPECT_EQ(probe(from(kQcowHead)), ImageFormat::qcow);
  Bytes image = from(kQcow2V3Head);
  put_be32(image, 4, 1);
  EXPECT_EQ(probe(image), ImageFormat::qcow);
  EXPECT_EQ(image_format_probe_score(ImageFormat::qcow2, ByteSpan(kQcowHead, sizeof kQcowHead), "x"), 0);
}

TEST(ProbeQcow, VersionZeroIsRaw) {
  Bytes image = from(kQcow2V3Head);
  put_be32(image, 4, 0);
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

TEST(ProbeQcow, WrongMagicIsRaw) {
  Bytes image = from(kQcow2V3Head);
  image[3] = 0xfa;
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

// --- vmdk -------------------------------------------------------------------------------

TEST(ProbeVmdk, SparseExtentMagicIsVmdk) {
  EXPECT_EQ(probe(from(kVmdkHead)), ImageFormat::vmdk);
  Bytes cowd(512, 0);
  put_text(cowd, 0, "COWD");
  EXPECT_EQ(probe(cowd), ImageFormat::vmdk);
}

TEST(ProbeVmdk, MagicAloneDecidesWhateverTheVersion) {
  Bytes image = from(kVmdkHead);
  put_le32(image, 4, 3);  // stream-optimized
  EXPECT_EQ(probe(image), ImageFormat::vmdk);
  put_le32(image, 4, 77);
  EXPECT_EQ(probe(image), ImageFormat::vmdk);
}

TEST(ProbeVmdk, NearMissMagicIsRaw) {
  Bytes image = from(kVmdkHead);
  image[3] = 'W';
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

TEST(ProbeVmdkText, QemuImgFlatDescriptorIsVmdk) {
  EXPECT_EQ(probe(text(kFlatDescriptor)), ImageFormat::vmdk);
}

TEST(ProbeVmdkText, VersionsOneToThree) {
  EXPECT_EQ(probe(descriptor_after("", "\n", '1')), ImageFormat::vmdk);
  EXPECT_EQ(probe(descriptor_after("", "\n", '2')), ImageFormat::vmdk);
  EXPECT_EQ(probe(descriptor_after("", "\n", '3')), ImageFormat::vmdk);
  EXPECT_EQ(probe(descriptor_after("", "\n", '4')), ImageFormat::raw);
  EXPECT_EQ(probe(descriptor_after("", "\n", '0')), ImageFormat::raw);
}

TEST(ProbeVmdkText, CrLfLineEndings) {
  EXPECT_EQ(probe(descriptor_after("# Disk DescriptorFile\r\n", "\r\n")), ImageFormat::vmdk);
  EXPECT_EQ(probe(descriptor_after("", "\r")), ImageFormat::raw);  // CR without LF
}

TEST(ProbeVmdkText, CommentsAndBlankSpaceLinesMayPrecede) {
  EXPECT_EQ(probe(descriptor_after("# a\n#b\n# c\n")), ImageFormat::vmdk);
  EXPECT_EQ(probe(descriptor_after("   \n \r\n")), ImageFormat::vmdk);
}

TEST(ProbeVmdkText, OtherLeadingLinesAreRaw) {
  EXPECT_EQ(probe(descriptor_after("\n")), ImageFormat::raw);       // an empty line
  EXPECT_EQ(probe(descriptor_after("\r\n")), ImageFormat::raw);     // an empty CRLF line
  EXPECT_EQ(probe(descriptor_after("  ")), ImageFormat::raw);       // indented version line
  EXPECT_EQ(probe(descriptor_after("\t")), ImageFormat::raw);       // tab-indented
  EXPECT_EQ(probe(descriptor_after("  \rx\n")), ImageFormat::raw);  // spaces, CR, then text
  EXPECT_EQ(probe(descriptor_after("CID=1\n")), ImageFormat::raw);
}

TEST(ProbeVmdkText, VersionLineMustEndRightAfterTheDigit) {
  EXPECT_EQ(probe(text("version=1 \nCID=1\n")), ImageFormat::raw);
  EXPECT_EQ(probe(text("version=12\n")), ImageFormat::raw);
  EXPECT_EQ(probe(text("version=1")), ImageFormat::raw);  // end of file: zero padding follows
}

TEST(ProbeVmdkText, CommentsOnlyAreRaw) {
  EXPECT_EQ(probe(text("# just a comment\n")), ImageFormat::raw);
  EXPECT_EQ(probe(text("#abc")), ImageFormat::raw);
}

TEST(ProbeVmdkText, VersionLineMustFitInTheFirst512Bytes) {
  // qemu-img 7.2 and 10.0: LF line at 502 (ends at 512) is vmdk, at 503 it is raw;
  // a CRLF line at 501 is vmdk, at 502 raw.
  EXPECT_EQ(probe(descriptor_after(comment_line(502))), ImageFormat::vmdk);
  EXPECT_EQ(probe(descriptor_after(comment_line(503))), ImageFormat::raw);
  EXPECT_EQ(probe(descriptor_after(comment_line(501), "\r\n")), ImageFormat::vmdk);
  EXPECT_EQ(probe(descriptor_after(comment_line(502), "\r\n")), ImageFormat::raw);
  EXPECT_EQ(probe(descriptor_after(comment_line(1000))), ImageFormat::raw);
}

// --- vpc and vhdx -----------------------------------------------------------------------

TEST(ProbeVpc, DynamicVhdIsVpc) { EXPECT_EQ(probe(from(kVpcHead)), ImageFormat::vpc); }

TEST(ProbeVpc, FixedVhdIsRaw) {
  // A fixed VHD is the data followed by a footer at the end only; the head is disk data.
  Bytes image(4096 + 512, 0);
  put(image, 4096, kVpcHead, sizeof kVpcHead);
  EXPECT_EQ(probe(image, "disk.vhd"), ImageFormat::raw);
}

TEST(ProbeVpc, NearMissCookieIsRaw) {
  Bytes image = from(kVpcHead);
  image[7] = 'X';
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

TEST(ProbeVhdx, SignatureIsVhdx) { EXPECT_EQ(probe(from(kVhdxHead)), ImageFormat::vhdx); }

TEST(ProbeVhdx, NearMissSignatureIsRaw) {
  Bytes image = from(kVhdxHead);
  image[7] = 'E';
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

// --- vdi --------------------------------------------------------------------------------

TEST(ProbeVdi, SignatureIsVdi) { EXPECT_EQ(probe(from(kVdiHead)), ImageFormat::vdi); }

TEST(ProbeVdi, TextIsNotChecked) {
  Bytes image = from(kVdiHead);
  for (size_t i = 0; i < 64; i++) image[i] = 0;
  EXPECT_EQ(probe(image), ImageFormat::vdi);
}

TEST(ProbeVdi, NearMissSignatureIsRaw) {
  Bytes image = from(kVdiHead);
  put_le32(image, 64, 0xbeda107e);
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

// --- qed, luks, parallels ---------------------------------------------------------------

TEST(ProbeQed, MagicIsQed) { EXPECT_EQ(probe(from(kQedHead)), ImageFormat::qed); }

TEST(ProbeQed, NearMissMagicIsRaw) {
  Bytes image = from(kQedHead);
  image[3] = 1;
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

TEST(ProbeLuks, VersionOneIsLuks) { EXPECT_EQ(probe(from(kLuksHead)), ImageFormat::luks); }

TEST(ProbeLuks, OtherVersionsAreRaw) {
  for (uint16_t version : {0, 2}) {  // LUKS2 is raw to qemu
    Bytes image = from(kLuksHead);
    put_be16(image, 6, version);
    EXPECT_EQ(probe(image), ImageFormat::raw) << version;
  }
}

TEST(ProbeParallels, BothSignaturesAreParallels) {
  EXPECT_EQ(probe(from(kParallelsHead)), ImageFormat::parallels);  // "WithouFreSpacExt"
  Bytes image = from(kParallelsHead);
  put_text(image, 0, "WithoutFreeSpace");
  EXPECT_EQ(probe(image), ImageFormat::parallels);
}

TEST(ProbeParallels, OtherVersionsAreRaw) {
  for (uint32_t version : {1u, 3u}) {
    Bytes image = from(kParallelsHead);
    put_le32(image, 16, version);
    EXPECT_EQ(probe(image), ImageFormat::raw) << version;
  }
}

TEST(ProbeParallels, NearMissSignatureIsRaw) {
  Bytes image = from(kParallelsHead);
  put_text(image, 0, "WithoutFreeSpacx");
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

// --- bochs, cloop, dmg ------------------------------------------------------------------

TEST(ProbeBochs, VersionsOneAndTwoAreBochs) {
  EXPECT_EQ(probe(bochs_image(0x00020000)), ImageFormat::bochs);
  EXPECT_EQ(probe(bochs_image(0x00010000)), ImageFormat::bochs);
}

TEST(ProbeBochs, OtherVersionsAreRaw) { EXPECT_EQ(probe(bochs_image(0x00030000)), ImageFormat::raw); }

TEST(ProbeBochs, FieldsMustEndInNul) {
  Bytes image = bochs_image(0x00020000);
  image[22] = 'X';  // "Bochs Virtual HD ImageX"
  EXPECT_EQ(probe(image), ImageFormat::raw);
  image = bochs_image(0x00020000);
  image[39] = 's';  // "Redologs"
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

TEST(ProbeBochs, OtherSubtypesAreRaw) {
  Bytes image = bochs_image(0x00020000);
  put(image, 48, "Undoable", 9);
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

TEST(ProbeCloop, PreambleIsCloopWithScoreTwo) {
  EXPECT_EQ(probe(cloop_image()), ImageFormat::cloop);
  EXPECT_EQ(probe(text(kCloopMagic)), ImageFormat::cloop);
  EXPECT_EQ(image_format_probe_score(
                ImageFormat::cloop,
                ByteSpan(reinterpret_cast<const uint8_t*>(kCloopMagic), sizeof kCloopMagic - 1), "x"),
            2);
}

TEST(ProbeCloop, TruncatedOrAlteredPreambleIsRaw) {
  std::string magic = kCloopMagic;
  EXPECT_EQ(probe(text(magic.substr(0, magic.size() - 1))), ImageFormat::raw);
  Bytes image = cloop_image();
  image[magic.size() - 2] = '2';  // "$2" for "$1"
  EXPECT_EQ(probe(image), ImageFormat::raw);
}

TEST(ProbeDmg, NameEndingInDotDmgIsDmg) {
  Bytes image(1024, 0);
  EXPECT_EQ(probe(image, "img.dmg"), ImageFormat::dmg);
  EXPECT_EQ(probe(image, "dir.dmg/a.dmg"), ImageFormat::dmg);
  EXPECT_EQ(probe(image, "x.dmg"), ImageFormat::dmg);
  // The whole name counts, directory included: qemu-img 7.2 probes `d/.dmg` as dmg, `.dmg` as raw.
  EXPECT_EQ(probe(image, "d/.dmg"), ImageFormat::dmg);
  EXPECT_EQ(image_format_probe_score(ImageFormat::dmg, ByteSpan(), "img.dmg"), 2);
}

TEST(ProbeDmg, OtherNamesAreRaw) {
  Bytes image(1024, 0);
  EXPECT_EQ(probe(image, ".dmg"), ImageFormat::raw);  // qemu wants more than the suffix
  EXPECT_EQ(probe(image, "img.DMG"), ImageFormat::raw);
  EXPECT_EQ(probe(image, "img.dmg.bak"), ImageFormat::raw);
  EXPECT_EQ(probe(image, "dir.dmg/file"), ImageFormat::raw);
  EXPECT_EQ(probe(image, "dmg"), ImageFormat::raw);
  EXPECT_EQ(probe(image, nullptr), ImageFormat::raw);  // json: filenames give qemu no name
}

TEST(ProbeDmg, MagicFormatsBeatTheName) {
  EXPECT_EQ(probe(from(kQcow2V3Head), "disk.dmg"), ImageFormat::qcow2);
  EXPECT_EQ(probe(from(kVdiHead), "disk.dmg"), ImageFormat::vdi);
}

// --- ties -------------------------------------------------------------------------------

// A qemu-img image of one format with the vdi signature written at offset 64.
Bytes with_vdi_signature(Bytes image) {
  put_le32(image, 64, 0xbeda107f);
  return image;
}

TEST(ProbeTies, Qemu72VdiBeatsTheFormatsRegisteredBeforeIt) {
  EXPECT_EQ(probe(with_vdi_signature(from(kQcow2V3Head))), ImageFormat::vdi);
  EXPECT_EQ(probe(with_vdi_signature(from(kQcowHead))), ImageFormat::vdi);
  EXPECT_EQ(probe(with_vdi_signature(from(kLuksHead))), ImageFormat::vdi);
  EXPECT_EQ(probe(with_vdi_signature(from(kVmdkHead))), ImageFormat::vdi);
  EXPECT_EQ(probe(with_vdi_signature(from(kVpcHead))), ImageFormat::vdi);
  EXPECT_EQ(probe(with_vdi_signature(from(kVhdxHead))), ImageFormat::vdi);
}

TEST(ProbeTies, Qemu72QedAndParallelsBeatVdi) {
  EXPECT_EQ(probe(with_vdi_signature(from(kQedHead))), ImageFormat::qed);
  EXPECT_EQ(probe(with_vdi_signature(from(kParallelsHead))), ImageFormat::parallels);
}

TEST(ProbeTies, Qemu72VdiBeatsAVmdkTextDescriptor) {
  Bytes image = text("version=1\n" + std::string(53, '#') + "\n");
  put_le32(image, 64, 0xbeda107f);
  put_text(image, 68, "\nCID=fffffffe\n");
  ASSERT_EQ(image_format_probe_score(ImageFormat::vmdk, ByteSpan(image.data(), image.size()), "x"), 100);
  EXPECT_EQ(probe(image), ImageFormat::vdi);
  EXPECT_EQ(probe10(image), ImageFormat::vmdk);
}

TEST(ProbeTies, Qemu100VmdkVpcVhdxBeatVdi) {
  EXPECT_EQ(probe10(with_vdi_signature(from(kVmdkHead))), ImageFormat::vmdk);
  EXPECT_EQ(probe10(with_vdi_signature(from(kVpcHead))), ImageFormat::vpc);
  EXPECT_EQ(probe10(with_vdi_signature(from(kVhdxHead))), ImageFormat::vhdx);
}

TEST(ProbeTies, Qemu100KeepsTheOtherOutcomes) {
  EXPECT_EQ(probe10(with_vdi_signature(from(kQcow2V3Head))), ImageFormat::vdi);
  EXPECT_EQ(probe10(with_vdi_signature(from(kQcowHead))), ImageFormat::vdi);
  EXPECT_EQ(probe10(with_vdi_signature(from(kLuksHead))), ImageFormat::vdi);
  EXPECT_EQ(probe10(with_vdi_signature(from(kQedHead))), ImageFormat::qed);
  EXPECT_EQ(probe10(with_vdi_signature(from(kParallelsHead))), ImageFormat::parallels);
}

TEST(ProbeTies, DmgNameBeatsCloopInBothVersions) {
  EXPECT_EQ(probe(cloop_image(), "cloop.dmg"), ImageFormat::dmg);
  EXPECT_EQ(probe10(cloop_image(), "cloop.dmg"), ImageFormat::dmg);
}

TEST(ProbeTies, UntiedImagesAgreeAcrossVersions) {
  for (const Bytes& image :
       {from(kQcow2V3Head), from(kQcowHead), from(kVmdkHead), from(kVpcHead), from(kVhdxHead), from(kVdiHead),
        from(kQedHead), from(kLuksHead), from(kParallelsHead), bochs_image(0x00020000), cloop_image(),
        text(kFlatDescriptor), Bytes(600, 0)}) {
    EXPECT_EQ(probe(image), probe10(image));
  }
}

}  // namespace
}  // namespace instar
