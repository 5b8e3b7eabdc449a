// compare_test.cc: field-by-field comparison of two runs and the read-only rule.
#include "differential/runner/compare.h"

#include <gtest/gtest.h>

namespace instar::diff {
namespace {

RunCapture exited(int code, std::string out, std::string err) {
  RunCapture r;
  r.process.ending = ProcessResult::Ending::exited;
  r.process.code = code;
  r.process.out = std::move(out);
  r.process.err = std::move(err);
  return r;
}

const std::vector<Field> kDefault = {Field::exit_status, Field::stdout_text, Field::stderr_text};

TEST(CompareRuns, IdenticalRunsMatch) {
  EXPECT_TRUE(compare_runs(kDefault, exited(0, "a\n", ""), exited(0, "a\n", "")).empty());
}

TEST(CompareRuns, ExitStatusMismatchNamesBothSides) {
  auto m = compare_runs(kDefault, exited(0, "", ""), exited(1, "", ""));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].field, Field::exit_status);
  EXPECT_EQ(m[0].summary, "exit status differs: reference exit 0, subject exit 1");
}

TEST(CompareRuns, SignalAndTimeoutAreNotExitCodes) {
  RunCapture sub = exited(0, "", "");
  sub.process.ending = ProcessResult::Ending::signalled;
  sub.process.code = 11;
  auto m = compare_runs(kDefault, exited(0, "", ""), sub);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NE(m[0].summary.find("subject killed by signal 11"), std::string::npos);

  sub.process.ending = ProcessResult::Ending::timed_out;
  sub.process.timed_out_after = std::chrono::seconds(60);
  m = compare_runs(kDefault, exited(0, "", ""), sub);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NE(m[0].summary.find("subject timed out after 60 s"), std::string::npos);
}

TEST(CompareRuns, StreamMismatchCarriesAUnifiedDiff) {
  auto m = compare_runs(kDefault, exited(1, "", "qemu-img: x\n"), exited(1, "", "instar: x\n"));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].field, Field::stderr_text);
  EXPECT_EQ(m[0].summary, "stderr differs");
  EXPECT_EQ(m[0].detail,
            "--- reference stderr\n+++ subject stderr\n@@ -1,1 +1,1 @@\n-qemu-img: x\n+instar: x\n");
}

TEST(CompareRuns, InspectionsAreComparedWhateverTheFields) {
  RunCapture ref = exited(0, "", ""), sub = exited(0, "", "");
  ProcessResult map_ref;
  map_ref.ending = ProcessResult::Ending::exited;
  map_ref.out = "[{\"start\": 0, \"data\": true}]\n";
  ProcessResult map_sub = map_ref;
  map_sub.out = "[{\"start\": 0, \"data\": false}]\n";
  std::vector<std::string> args = {"map", "-f", "raw", "out.raw"};
  ref.inspections.push_back({args, map_ref});
  sub.inspections.push_back({args, map_ref});
  EXPECT_TRUE(compare_runs({Field::exit_status}, ref, sub).empty());
  sub.inspections[0].process = map_sub;
  auto m = compare_runs({Field::exit_status}, ref, sub);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].field, Field::files);
  EXPECT_EQ(m[0].summary, "inspection #1 (qemu-img map -f raw out.raw) of the files left: stdout differs");
  EXPECT_NE(m[0].detail.find("+[{\"start\": 0, \"data\": false}]"), std::string::npos) << m[0].detail;
  sub.inspections[0].process.code = 1;
  EXPECT_EQ(compare_runs({Field::exit_status}, ref, sub).size(), 2u);
  // A side without inspections (a recorded reference) is not compared.
  sub.inspections.clear();
  EXPECT_TRUE(compare_runs({Field::exit_status}, ref, sub).empty());
}

TEST(CompareRuns, OnlyListedFieldsAreCompared) {
  EXPECT_TRUE(compare_runs({Field::exit_status}, exited(0, "a", "b"), exited(0, "c", "d")).empty());
  EXPECT_EQ(compare_runs({Field::stdout_text}, exited(0, "a", "b"), exited(3, "c", "b")).size(), 1u);
}

TEST(CompareRuns, FilesCompareContentNotAllocation) {
  RunCapture a = exited(0, "", ""), b = exited(0, "", "");
  a.files_after["out.qcow2"] = EntryDigest{EntryDigest::Kind::file, 100, 4096, 1, 0644};
  b.files_after["out.qcow2"] = EntryDigest{EntryDigest::Kind::file, 100, 8192, 1, 0600};
  EXPECT_TRUE(compare_runs({Field::files}, a, b).empty());
  b.files_after["out.qcow2"].content_hash = 2;
  b.files_after["extra"] = EntryDigest{EntryDigest::Kind::file, 0, 0, 0, 0644};
  auto m = compare_runs({Field::files}, a, b);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].detail,
            "out.qcow2: content changed (reference -> subject)\nextra: only the subject left it (reference "
            "-> subject)\n");
}

TEST(ReadOnlyViolations, NoneWhenNothingChanged) {
  TreeDigest t{{"img.qcow2", EntryDigest{EntryDigest::Kind::file, 10, 4096, 7, 0644}}};
  EXPECT_TRUE(read_only_violations(t, t).empty());
}

TEST(ReadOnlyViolations, EveryKindOfChangeIsReported) {
  TreeDigest before{{"img.qcow2", EntryDigest{EntryDigest::Kind::file, 10, 4096, 7, 0644}},
                    {"gone", EntryDigest{EntryDigest::Kind::file, 1, 4096, 1, 0644}}};
  TreeDigest after{{"img.qcow2", EntryDigest{EntryDigest::Kind::file, 10, 4096, 8, 0644}},
                   {"new.lock", EntryDigest{EntryDigest::Kind::file, 0, 0, 0, 0644}}};
  auto v = read_only_violations(before, after);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "subject removed gone during a read-only operation");
  EXPECT_EQ(v[1], "subject modified img.qcow2 during a read-only operation (content changed)");
  EXPECT_EQ(v[2], "subject created new.lock during a read-only operation");
}

TEST(ReadOnlyViolations, AllocationAndModeCount) {
  TreeDigest before{{"img", EntryDigest{EntryDigest::Kind::file, 10, 4096, 7, 0644}}};
  TreeDigest after{{"img", EntryDigest{EntryDigest::Kind::file, 10, 8192, 7, 0600}}};
  auto v = read_only_violations(before, after);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(
      v[0],
      "subject modified img during a read-only operation (allocation 4096 -> 8192 bytes, mode 0644 -> 0600)");
}

}  // namespace
}  // namespace instar::diff
