#include "core/io/memory_block_device.h"

#include <gtest/gtest.h>

namespace instar {
namespace {

TEST(MemoryBlockDevice, ReadsWithinBounds) {
  uint8_t data[4] = {1, 2, 3, 4};
  MemoryBlockDevice dev(data, sizeof data);
  uint8_t out[2];
  ASSERT_TRUE(dev.read(2, out, 2).is_ok());
  EXPECT_EQ(out[0], 3);
  EXPECT_EQ(out[1], 4);
}

TEST(MemoryBlockDevice, RefusesReadPastEnd) {
  uint8_t data[4] = {};
  MemoryBlockDevice dev(data, sizeof data);
  uint8_t out[2];
  EXPECT_TRUE(dev.read(3, out, 2).is_error());
  EXPECT_TRUE(dev.read(UINT64_MAX, out, 2).is_error());
}

TEST(MemoryBlockDevice, ReadOnlyRefusesWrite) {
  const uint8_t data[4] = {};
  MemoryBlockDevice dev(data, sizeof data);
  uint8_t in[1] = {9};
  EXPECT_TRUE(dev.write(0, in, 1).is_error());
}

TEST(ReadZeroPadded, PadsPastEnd) {
  uint8_t data[3] = {7, 8, 9};
  MemoryBlockDevice dev(data, sizeof data);
  uint8_t out[6];
  auto n = read_zero_padded(dev, 1, out, sizeof out);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(n.value(), 2u);
  EXPECT_EQ(out[0], 8);
  EXPECT_EQ(out[1], 9);
  EXPECT_EQ(out[5], 0);
}

}  // namespace
}  // namespace instar
