#include "cli/render/size.h"

#include <gtest/gtest.h>

namespace instar::cli {
namespace {

// Expected strings were printed by qemu-img 7.2 and 10.0 for these sizes.
TEST(SizeToStr, MatchesQemuImg) {
  EXPECT_EQ(size_to_str(0), "0 B");
  EXPECT_EQ(size_to_str(200704), "196 KiB");
  EXPECT_EQ(size_to_str(12800), "12.5 KiB");
  EXPECT_EQ(size_to_str(1000448), "977 KiB");
  EXPECT_EQ(size_to_str(2297856), "2.19 MiB");
  EXPECT_EQ(size_to_str(67108864), "64 MiB");
  EXPECT_EQ(size_to_str(197120), "192 KiB");
}

}  // namespace
}  // namespace instar::cli
