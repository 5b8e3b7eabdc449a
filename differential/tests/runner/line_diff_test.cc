// line_diff_test.cc: the unified-style diff shown when outputs differ.
#include "differential/runner/line_diff.h"

#include <gtest/gtest.h>

namespace instar::diff {
namespace {

TEST(LineDiff, EqualInputsGiveNothing) { EXPECT_EQ(unified_line_diff("a\nb\n", "a\nb\n", "ref", "sub"), ""); }

TEST(LineDiff, OneChangedLineWithContext) {
  std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n";
  std::string b = "1\n2\n3\n4\nfive\n6\n7\n8\n";
  EXPECT_EQ(unified_line_diff(a, b, "reference stdout", "subject stdout"),
            "--- reference stdout\n"
            "+++ subject stdout\n"
            "@@ -2,7 +2,7 @@\n"
            " 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(LineDiff, DistantChangesMakeSeparateHunks) {
  std::string a, b;
  for (int i = 1; i <= 20; i++) {
    a += std::to_string(i) + "\n";
    b += (i == 2 || i == 18 ? "x" : std::to_string(i)) + "\n";
  }
  std::string d = unified_line_diff(a, b, "a", "b", 1);
  EXPECT_EQ(d,
            "--- a\n+++ b\n"
            "@@ -1,3 +1,3 @@\n 1\n-2\n+x\n 3\n"
            "@@ -17,3 +17,3 @@\n 17\n-18\n+x\n 19\n");
}

TEST(LineDiff, NearbyChangesShareAHunk) {
  // Two unchanged lines between changes fit in 2 * context, so one hunk; three do not.
  std::string d = unified_line_diff("1\n2\n3\n4\n", "x\n2\n3\ny\n", "a", "b", 1);
  EXPECT_EQ(d, "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+x\n 2\n 3\n-4\n+y\n");
  d = unified_line_diff("1\n2\n3\n4\n5\n", "x\n2\n3\n4\ny\n", "a", "b", 1);
  EXPECT_EQ(d, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-1\n+x\n 2\n@@ -4,2 +4,2 @@\n 4\n-5\n+y\n");
}

TEST(LineDiff, InsertionsAndDeletions) {
  EXPECT_EQ(unified_line_diff("", "new\n", "a", "b"), "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+new\n");
  EXPECT_EQ(unified_line_diff("a\nb\n", "a\n", "a", "b"), "--- a\n+++ b\n@@ -1,2 +1,1 @@\n a\n-b\n");
}

TEST(LineDiff, MissingFinalNewlineIsShown) {
  EXPECT_EQ(unified_line_diff("x\n", "x", "a", "b"),
            "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-x\n+x\n\\ No newline at end of output\n");
}

TEST(LineDiff, InvisibleBytesAreEscaped) {
  EXPECT_EQ(unified_line_diff("a\n", std::string("a\r\n"), "a", "b"),
            "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-a\n+a\\x0d\n");
  EXPECT_EQ(unified_line_diff("\tx\n", std::string("\tx\0\n", 4), "a", "b"),
            "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-\tx\n+\tx\\x00\n");
}

TEST(LineDiff, LargeInputsStillProduceADiff) {
  std::string a, b;
  for (int i = 0; i < 5000; i++) {
    a += "a" + std::to_string(i) + "\n";
    b += "b" + std::to_string(i) + "\n";
  }
  std::string d = unified_line_diff(a, b, "a", "b");
  EXPECT_NE(d.find("@@ -1,5000 +1,5000 @@"), std::string::npos);
}

}  // namespace
}  // namespace instar::diff
