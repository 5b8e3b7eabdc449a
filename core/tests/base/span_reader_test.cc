#include "core/base/span_reader.h"

#include <gtest/gtest.h>

namespace instar {
namespace {

const uint8_t kBytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

TEST(SpanReader, ReadsBigEndian) {
  SpanReader r(ByteSpan(kBytes, sizeof kBytes));
  uint16_t a;
  uint32_t b;
  ASSERT_TRUE(r.read_u16_be(a));
  ASSERT_TRUE(r.read_u32_be(b));
  EXPECT_EQ(a, 0x0102);
  EXPECT_EQ(b, 0x03040506u);
  EXPECT_EQ(r.remaining(), 3u);
}

TEST(SpanReader, ReadsLittleEndian) {
  SpanReader r(ByteSpan(kBytes, sizeof kBytes));
  uint64_t v;
  ASSERT_TRUE(r.read_u64_le(v));
  EXPECT_EQ(v, 0x0807060504030201ull);
}

TEST(SpanReader, FailedReadChangesNothing) {
  SpanReader r(ByteSpan(kBytes, 3));
  uint32_t v = 0xdeadbeef;
  EXPECT_FALSE(r.read_u32_be(v));
  EXPECT_EQ(v, 0xdeadbeefu);
  EXPECT_EQ(r.position(), 0u);
  uint8_t b;
  ASSERT_TRUE(r.read_u8(b));
  EXPECT_EQ(b, 1);
}

TEST(SpanReader, SkipBeyondEndFails) {
  SpanReader r(ByteSpan(kBytes, sizeof kBytes));
  EXPECT_FALSE(r.skip(10));
  EXPECT_TRUE(r.skip(9));
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(SpanReader, FixedOffsetLoads) {
  ByteSpan s(kBytes, sizeof kBytes);
  EXPECT_EQ(load_u32_be(s, 1), 0x02030405u);
  EXPECT_EQ(load_u16_le(s, 7), 0x0908);
}

TEST(ByteSpan, SubspanClampsToSize) {
  ByteSpan s(kBytes, sizeof kBytes);
  EXPECT_EQ(s.subspan(7, 100).size, 2u);
  EXPECT_EQ(s.subspan(100, 1).size, 0u);
}

}  // namespace
}  // namespace instar
