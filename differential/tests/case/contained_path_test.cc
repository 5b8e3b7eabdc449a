// contained_path_test.cc: which file names stay inside a case's directory.
#include "differential/case/contained_path.h"

#include <gtest/gtest.h>

namespace instar::diff {
namespace {

TEST(ContainedPath, AcceptsPlainRelativeNames) {
  EXPECT_EQ(why_not_contained("img.qcow2"), "");
  EXPECT_EQ(why_not_contained("sub/img.qcow2"), "");
  EXPECT_EQ(why_not_contained("./img"), "");
  EXPECT_EQ(why_not_contained("a..b"), "");
  EXPECT_EQ(why_not_contained("..."), "");
}

TEST(ContainedPath, RefusesEscapes) {
  EXPECT_EQ(why_not_contained("/etc/passwd"), "is absolute");
  EXPECT_EQ(why_not_contained(".."), "contains a \"..\" component");
  EXPECT_EQ(why_not_contained("../x"), "contains a \"..\" component");
  EXPECT_EQ(why_not_contained("a/../../x"), "contains a \"..\" component");
  EXPECT_EQ(why_not_contained("a/.."), "contains a \"..\" component");
}

TEST(ContainedPath, RefusesTheDirectoryItselfAndEmptyNames) {
  EXPECT_EQ(why_not_contained(""), "is empty");
  EXPECT_EQ(why_not_contained("."), "names the case directory itself");
  EXPECT_EQ(why_not_contained("./"), "names the case directory itself");
  EXPECT_EQ(why_not_contained(std::string_view("a\0b", 3)), "contains a NUL byte");
}

}  // namespace
}  // namespace instar::diff
