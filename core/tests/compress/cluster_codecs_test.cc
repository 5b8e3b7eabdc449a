// cluster_codecs_test.cc: compressed clusters are accepted exactly when qemu's qcow2_zlib_decompress and
// qcow2_zstd_decompress accept them (the libraries are the same; these tests pin the call pattern).
#include "core/compress/cluster_codecs.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/tests/compress/deflate_oracle.h"
#include "core/tests/compress/zstd_oracle.h"

namespace instar::compress {
namespace {

using Bytes = std::vector<uint8_t>;
using instar::testing::deflate_raw;

Bytes sample(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  // Compressible: runs of a few symbols with some noise.
  for (size_t i = 0; i < n; i++) b[i] = static_cast<uint8_t>((i / 7) % 13 + (rng() % 5 == 0 ? rng() % 256 : 0));
  return b;
}

Bytes zstd_frame(const Bytes& data) {
  Bytes out(ZSTD_compressBound(data.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

bool inflate_ok(const Bytes& in, Bytes& out) {
  return inflate_cluster(ByteSpan(in.data(), in.size()), out.data(), out.size()).is_ok();
}

bool zstd_ok(const Bytes& in, Bytes& out) {
  return zstd_decompress_cluster(ByteSpan(in.data(), in.size()), out.data(), out.size()).is_ok();
}

TEST(InflateCluster, DecodesAWholeCluster) {
  Bytes data = sample(65536, 1), out(65536);
  ASSERT_TRUE(inflate_ok(deflate_raw(data), out));
  EXPECT_EQ(out, data);
}

TEST(InflateCluster, IgnoresThePaddingUpToTheSector) {
  Bytes data = sample(65536, 2), out(65536);
  Bytes in = deflate_raw(data);
  in.resize((in.size() + 511) / 512 * 512 + 512, 0xA5);
  ASSERT_TRUE(inflate_ok(in, out));
  EXPECT_EQ(out, data);
}

TEST(InflateCluster, AcceptsAStreamLongerThanTheCluster) {
  // qemu accepts Z_BUF_ERROR once the output is full: the rest of the stream is never looked at.
  Bytes data = sample(65536 + 4096, 3), out(65536);
  ASSERT_TRUE(inflate_ok(deflate_raw(data), out));
  EXPECT_EQ(out, Bytes(data.begin(), data.begin() + 65536));
}

TEST(InflateCluster, RefusesAStreamShorterThanTheCluster) {
  Bytes data = sample(65536 - 1, 4), out(65536);
  EXPECT_FALSE(inflate_ok(deflate_raw(data), out));
}

TEST(InflateCluster, RefusesTruncatedAndCorruptInput) {
  Bytes data = sample(65536, 5), out(65536);
  Bytes in = deflate_raw(data);
  Bytes cut(in.begin(), in.begin() + static_cast<long>(in.size() / 2));
  EXPECT_FALSE(inflate_ok(cut, out));
  EXPECT_FALSE(inflate_ok(Bytes(512, 0xFF), out));  // 0b111: reserved block type
  EXPECT_FALSE(inflate_ok(Bytes(), out));
}

TEST(ZstdCluster, DecodesOneFrame) {
  Bytes data = sample(65536, 6), out(65536);
  ASSERT_TRUE(zstd_ok(zstd_frame(data), out));
  EXPECT_EQ(out, data);
}

TEST(ZstdCluster, DecodesSeveralFramesAndSkippableOnes) {
  Bytes data = sample(65536, 7), out(65536);
  Bytes a(data.begin(), data.begin() + 20000), b(data.begin() + 20000, data.end());
  Bytes in = {0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};  // a skippable frame of 4 bytes
  for (const Bytes& part : {zstd_frame(a), zstd_frame(b)}) in.insert(in.end(), part.begin(), part.end());
  in.resize(in.size() + 300, 0x77);  // what follows the last frame is ignored
  ASSERT_TRUE(zstd_ok(in, out));
  EXPECT_EQ(out, data);
}

TEST(ZstdCluster, RefusesFramesThatDoNotEndWithTheCluster) {
  Bytes out(65536);
  EXPECT_FALSE(zstd_ok(zstd_frame(sample(65536 + 1, 8)), out));  // longer: not flushed
  EXPECT_FALSE(zstd_ok(zstd_frame(sample(65536 - 1, 9)), out));  // shorter: no progress
  Bytes in = zstd_frame(sample(65536, 10));
  EXPECT_FALSE(zstd_ok(Bytes(in.begin(), in.end() - 3), out));  // truncated
  EXPECT_FALSE(zstd_ok(Bytes(), out));
}

TEST(ZstdCluster, AFailureLeavesNothingForTheNextCluster) {
  // The context is reused across clusters; a frame abandoned half-way must not leak into the next call.
  Bytes data = sample(65536, 11), out(65536);
  Bytes good = zstd_frame(data);
  Bytes half(good.begin(), good.begin() + static_cast<long>(good.size() / 2));
  EXPECT_FALSE(zstd_ok(half, out));
  ASSERT_TRUE(zstd_ok(good, out));
  EXPECT_EQ(out, data);
}

TEST(ZstdCluster, AgreesWithAFreshContextOnCorruptedFrames) {
  // qemu creates a context per cluster; instar resets one. Corrupt frames at random and compare.
  std::mt19937 rng(12);
  Bytes data = sample(16384, 13);
  Bytes frame = zstd_frame(data);
  int accepted = 0;
  for (int round = 0; round < 3000; round++) {
    Bytes in = frame;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; i++) in[rng() % in.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    if (rng() % 4 == 0) in.resize(rng() % in.size());
    Bytes ours(16384, 0xEE), theirs(16384, 0xEE);
    bool a = zstd_ok(in, ours);
    bool b = testing::qemu_zstd_decompress(in.data(), in.size(), theirs.data(), theirs.size());
    ASSERT_EQ(a, b) << "round " << round;
    if (a) {
      ASSERT_EQ(ours, theirs) << "round " << round;
      accepted++;
    }
  }
  RecordProperty("accepted", accepted);
}

}  // namespace
}  // namespace instar::compress
