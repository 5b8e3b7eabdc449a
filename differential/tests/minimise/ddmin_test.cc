// ddmin_test.cc: delta debugging on synthetic predicates finds 1-minimal subsets.
#include "differential/minimise/ddmin.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace instar::diff {
namespace {

bool contains(const std::vector<size_t>& s, size_t x) { return std::find(s.begin(), s.end(), x) != s.end(); }

TEST(Ddmin, FindsTheSingleCulprit) {
  size_t tests = 0;
  auto r = ddmin(
      64, [](const std::vector<size_t>& s) { return contains(s, 37); }, 0, &tests);
  EXPECT_EQ(r, std::vector<size_t>{37});
  EXPECT_LT(tests, 40u);
}

TEST(Ddmin, FindsAPairThatFailsOnlyTogether) {
  auto r = ddmin(20, [](const std::vector<size_t>& s) { return contains(s, 3) && contains(s, 17); });
  EXPECT_EQ(r, (std::vector<size_t>{3, 17}));
}

TEST(Ddmin, ResultIsOneMinimal) {
  auto pred = [](const std::vector<size_t>& s) {
    return (contains(s, 1) && contains(s, 5)) || (contains(s, 8) && contains(s, 9) && contains(s, 2));
  };
  auto r = ddmin(12, pred);
  ASSERT_TRUE(pred(r));
  for (size_t i = 0; i < r.size(); i++) {
    auto smaller = r;
    smaller.erase(smaller.begin() + i);
    EXPECT_FALSE(pred(smaller));
  }
}

TEST(Ddmin, KeepsTheMinimumSizeAndHandlesEmpty) {
  EXPECT_EQ(ddmin(
                5, [](const std::vector<size_t>&) { return true; }, 1)
                .size(),
            1u);
  EXPECT_TRUE(ddmin(5, [](const std::vector<size_t>&) { return true; }).empty());
  EXPECT_TRUE(ddmin(0, [](const std::vector<size_t>&) { return true; }).empty());
  EXPECT_EQ(ddmin(3, [](const std::vector<size_t>& s) { return s.size() == 3; }).size(), 3u);
}

}  // namespace
}  // namespace instar::diff
