#include "core/base/checked.h"

#include <gtest/gtest.h>

namespace instar {
namespace {

TEST(Checked, AddOverflowIsAnError) {
  EXPECT_TRUE(checked_add(UINT64_MAX - 1, 1).is_ok());
  auto r = checked_add(UINT64_MAX, 1);
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.error().code, Errc::overflow);
}

TEST(Checked, MulOverflowIsAnError) {
  EXPECT_EQ(checked_mul(1ull << 31, 1ull << 32).value(), 1ull << 63);
  EXPECT_TRUE(checked_mul(1ull << 32, 1ull << 32).is_error());
}

TEST(Checked, AlignUp) {
  EXPECT_EQ(checked_align_up(1, 512).value(), 512u);
  EXPECT_EQ(checked_align_up(512, 512).value(), 512u);
  EXPECT_TRUE(checked_align_up(UINT64_MAX, 512).is_error());
}

}  // namespace
}  // namespace instar
