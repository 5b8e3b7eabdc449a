// bytes_test.cc: all_zero and bytes_equal agree with a plain byte loop for every length and position of
// a single differing byte (the word-at-a-time paths, their tails and the first-word test).
#include "core/base/bytes.h"

#include <gtest/gtest.h>

#include <vector>

namespace instar {
namespace {

TEST(Bytes, AllZeroFindsAnyNonZeroByte) {
  for (size_t n = 0; n <= 40; n++) {
    std::vector<uint8_t> v(n, 0);
    EXPECT_TRUE(all_zero(ByteSpan(v.data(), n))) << n;
    for (size_t at = 0; at < n; at++) {
      v[at] = 0x80;
      EXPECT_FALSE(all_zero(ByteSpan(v.data(), n))) << n << " " << at;
      v[at] = 0;
    }
  }
  std::vector<uint8_t> sector(512, 0);
  sector[511] = 1;
  EXPECT_FALSE(all_zero(ByteSpan(sector.data(), 512)));
}

TEST(Bytes, BytesEqualFindsAnyDifferentByte) {
  for (size_t n = 0; n <= 40; n++) {
    std::vector<uint8_t> a(n), b(n);
    for (size_t i = 0; i < n; i++) a[i] = b[i] = static_cast<uint8_t>(i * 7 + 1);
    EXPECT_TRUE(bytes_equal(a.data(), b.data(), n)) << n;
    for (size_t at = 0; at < n; at++) {
      b[at] ^= 0x01;
      EXPECT_FALSE(bytes_equal(a.data(), b.data(), n)) << n << " " << at;
      b[at] ^= 0x01;
    }
  }
  // Unaligned starts.
  std::vector<uint8_t> a(530, 3), b(530, 3);
  b[527] = 4;
  EXPECT_TRUE(bytes_equal(a.data() + 1, b.data() + 3, 512));
  EXPECT_FALSE(bytes_equal(a.data() + 3, b.data() + 3, 525));
}

}  // namespace
}  // namespace instar
