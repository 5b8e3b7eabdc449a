#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/qcow2/header.h"
#include "core/qcow2/header_rewrite.h"

// The first 0x220 bytes of the header cluster qemu-img 7.2 writes for `create -f qcow2 img 64M`, a
// 128 KiB write and `bitmap --add img b0` (the rest of the 64 KiB cluster is zeros): the feature table
// at 0x70, the bitmaps extension at 0x1f8 (one bitmap, a 32-byte directory at 0x80000), the end marker.
namespace instar::qcow2 {
namespace {

const char* const kHeaderHex =
    "514649fb0000000300000000000000000000000000000010000000000400000000000000000000010000000000030000"
    "000000000001000000000001000000000000000000000000000000000000000000000000000000000000000000000001"
    "000000040000007000000000000000006803f85700000180000064697274792062697400000000000000000000000000"
    "0000000000000000000000000000000000000000000000000001636f7272757074206269740000000000000000000000"
    "000000000000000000000000000000000000000000000000000265787465726e616c20646174612066696c6500000000"
    "0000000000000000000000000000000000000000000000000003636f6d7072657373696f6e2074797065000000000000"
    "0000000000000000000000000000000000000000000000000004657874656e646564204c3220656e7472696573000000"
    "00000000000000000000000000000000000000000000000001006c617a7920726566636f756e74730000000000000000"
    "00000000000000000000000000000000000000000000000002006269746d617073000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000002017261772065787465726e616c20646174610000000000"
    "000000000000000000000000000000000000000000000000238528750000001800000001000000000000000000000020"
    "00000000000800000000000000000000";

std::vector<uint8_t> header_cluster() {
  std::vector<uint8_t> out(65536, 0);
  std::string hex(kHeaderHex);
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out[i / 2] = static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

struct Rewrite {
  std::vector<uint8_t> first = header_cluster();
  std::vector<uint8_t> out = std::vector<uint8_t>(65536, 0);
  std::vector<uint8_t> scratch = std::vector<uint8_t>(1 << 20);
  Arena arena{scratch.data(), scratch.size()};
  Header h;
  Rewrite() { h = parse_header(ByteSpan(first.data(), kHeaderStructSize)).value(); }
};

TEST(HeaderRewriteBitmaps, QemusHeaderWithItsBitmapsExtensionIsRewrittenAsItIs) {
  Rewrite r;
  ASSERT_EQ(bitmaps_extension_data_offset(r.h, ByteSpan(r.first.data(), r.first.size())), 0x200u);
  BitmapsExtension ext{1, 32, 0x80000};
  ASSERT_TRUE(serialise_header_with_bitmaps(r.h, ByteSpan(r.first.data(), r.first.size()), 0, &ext,
                                            r.out.data(), r.arena)
                  .is_ok());
  EXPECT_EQ(r.out, r.first);
  // The plain rewrite refuses a header with bitmaps (it would drop them).
  EXPECT_TRUE(
      serialise_header_as_qemu(r.h, ByteSpan(r.first.data(), r.first.size()), 0, r.out.data(), r.arena)
          .is_error());
}

TEST(HeaderRewriteBitmaps, DroppingTheExtensionMovesTheEndMarkerUp) {
  // Measured: qemu's -r on the image with its autoclear bit cleared zeroes bytes 0x1f8..0x217.
  Rewrite r;
  ASSERT_TRUE(serialise_header_with_bitmaps(r.h, ByteSpan(r.first.data(), r.first.size()), 0, nullptr,
                                            r.out.data(), r.arena)
                  .is_ok());
  for (size_t i = 0; i < r.first.size(); i++) {
    uint8_t expected = i >= 0x1f8 && i < 0x218 ? 0 : r.first[i];
    ASSERT_EQ(r.out[i], expected) << "byte " << i;
  }
}

TEST(HeaderRewriteBitmaps, ANewDirectoryOffsetChangesOnlyThatField) {
  Rewrite r;
  BitmapsExtension ext{1, 32, 0xa0000};
  ASSERT_TRUE(serialise_header_with_bitmaps(r.h, ByteSpan(r.first.data(), r.first.size()), 0, &ext,
                                            r.out.data(), r.arena)
                  .is_ok());
  for (size_t i = 0; i < r.first.size(); i++) {
    if (i == 0x215) continue;
    ASSERT_EQ(r.out[i], r.first[i]) << "byte " << i;
  }
  EXPECT_EQ(r.out[0x215], 0x0a);
}

}  // namespace
}  // namespace instar::qcow2
