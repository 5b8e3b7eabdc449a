// report_test.cc: the text form of replay reports.
#include "differential/runner/report.h"

#include <gtest/gtest.h>

namespace instar::diff {
namespace {

TEST(FormatReport, OneLinePerOperationWithProblemsIndented) {
  CaseReport r;
  r.case_name = "qcow2-x";
  r.profile = "10.0";
  r.verdict = Verdict::fail;
  r.operations.push_back({1, {"info", "img.qcow2"}, Verdict::pass, {}});
  r.operations.push_back(
      {2, {"info", "--output=json", "my img"}, Verdict::fail, {"stdout differs:\n--- a\n+++ b"}});
  EXPECT_EQ(format_report(r),
            "PASS qcow2-x [10.0] #1: qemu-img info img.qcow2\n"
            "FAIL qcow2-x [10.0] #2: qemu-img info --output=json 'my img'\n"
            "    stdout differs:\n"
            "    --- a\n"
            "    +++ b\n");
}

TEST(FormatReport, ACaseLevelMessageIsOneLineThenDetail) {
  CaseReport r;
  r.case_name = "c";
  r.profile = "7.2";
  r.verdict = Verdict::fail;
  r.message = "setup step 1 failed: qemu-img create x: exit 1\nmore detail";
  r.kept_directory = "/tmp/instar-diff-abc";
  EXPECT_EQ(format_report(r),
            "FAIL c [7.2]: setup step 1 failed: qemu-img create x: exit 1\n"
            "    more detail\n"
            "    kept /tmp/instar-diff-abc\n");
}

TEST(FormatReport, VerdictNames) {
  EXPECT_EQ(verdict_name(Verdict::pass), "PASS");
  EXPECT_EQ(verdict_name(Verdict::fail), "FAIL");
  EXPECT_EQ(verdict_name(Verdict::skip), "SKIP");
}

}  // namespace
}  // namespace instar::diff
