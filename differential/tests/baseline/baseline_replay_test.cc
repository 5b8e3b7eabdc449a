// baseline_replay_test.cc: a recorded replay judges the files the subject wrote, with no qemu-img at all.
#include "differential/baseline/baseline_replay.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "differential/baseline/recorder.h"
#include "differential/runner/scratch_directory.h"
#include "differential/tests/runner/test_files.h"

namespace instar::diff {
namespace {

// A "convert" that copies 4 KiB of 'a' to 64 KiB of a 1 MiB output and leaves the rest a hole (or, with
// `fill`, writes the zeros too), and a "map" inspection that prints the output's size.
std::string subject_body(bool fill, const char* byte = "a") {
  std::string write = fill ? "head -c 1048576 /dev/zero > \"$3\"; " : "rm -f \"$3\"; ";
  return "case \"$1\" in\n"
         "  convert) " +
         write + "head -c 4096 /dev/zero | tr '\\0' '" + byte +
         "' | dd of=\"$3\" bs=4096 seek=16 conv=notrunc status=none; truncate -s 1M \"$3\"; echo converted "
         ";;\n"
         "  map) echo \"size $(stat -c %s \"$5\")\" ;;\n"
         "esac\n";
}

constexpr const char* kCase = R"({"name": "copy", "description": "d",
    "setup": [{"write_file": {"file": "in.raw", "hex": "00ff"}}],
    "operations": [{"args": ["convert", "in.raw", "out.raw"], "writes": true,
                    "inspect": [["map", "--output=json", "-f", "raw", "out.raw"]]}],
    "compare": ["exit", "stdout", "stderr", "files"]})";

class BaselineReplayTest : public ::testing::Test {
 protected:
  std::filesystem::path script(const std::string& name, const std::string& body) {
    std::filesystem::path path = dir_.path() / name;
    testing::write_file(path, "#!/bin/sh\n" + body);
    chmod(path.c_str(), 0755);
    return path;
  }

  // The record the well-behaved subject makes as if it were qemu-img 10.0.
  BaselineRecord record(const Case& c) {
    ProfileTools tools{"10.0", script("reference", subject_body(false)), ""};
    return record_case(c, tools, "qemu-img version 10.0.0", std::chrono::seconds(30));
  }

  std::string replay(const Case& c, const BaselineRecord& r, const std::filesystem::path& subject,
                     Verdict expected) {
    CaseReport report = replay_baseline(c, r, "10.0", subject, std::chrono::seconds(30));
    std::string text = format_report(report);
    EXPECT_EQ(report.verdict, expected) << text;
    return text;
  }

  ScratchDirectory dir_{default_temp_root(), "baseline-replay-test-"};
};

TEST_F(BaselineReplayTest, RecordsTheFilesAndInspectionsAndReplaysThem) {
  Case c = parse_case(kCase);
  BaselineRecord r = record(c);
  ASSERT_EQ(r.operations.size(), 1u);
  ASSERT_TRUE(r.operations[0].files.has_value());
  ASSERT_EQ(r.operations[0].files->size(), 1u);
  EXPECT_EQ((*r.operations[0].files)[0].path, "out.raw");
  ASSERT_EQ((*r.operations[0].files)[0].data.size(), 1u);
  EXPECT_EQ((*r.operations[0].files)[0].data[0].offset, 65536u);
  ASSERT_EQ(r.operations[0].inspections.size(), 1u);
  EXPECT_EQ(r.operations[0].inspections[0].out, "size 1048576\n");
  replay(c, r, script("same", subject_body(false)), Verdict::pass);
}

TEST_F(BaselineReplayTest, AMismatchingRecordedDigestFails) {
  Case c = parse_case(kCase);
  BaselineRecord r = record(c);
  (*r.operations[0].files)[0].data[0].sha256 = std::string(64, 'f');
  std::string text = replay(c, r, script("same", subject_body(false)), Verdict::fail);
  EXPECT_NE(text.find("files left differ from what qemu-img 10.0 left"), std::string::npos) << text;
  EXPECT_NE(text.find("out.raw: bytes 65536-69632 differ from the reference's"), std::string::npos) << text;
}

TEST_F(BaselineReplayTest, AMismatchingRecordedLayoutFails) {
  Case c = parse_case(kCase);
  BaselineRecord r = record(c);
  (*r.operations[0].files)[0].data[0].length = 8192;
  std::string text = replay(c, r, script("same", subject_body(false)), Verdict::fail);
  EXPECT_NE(text.find("out.raw: data/hole layout differs"), std::string::npos) << text;
}

TEST_F(BaselineReplayTest, ASubjectFillingTheHolesFailsOnLayoutAlone) {
  Case c = parse_case(kCase);
  BaselineRecord r = record(c);
  std::string text = replay(c, r, script("filler", subject_body(true)), Verdict::fail);
  EXPECT_NE(text.find("out.raw: data/hole layout differs"), std::string::npos) << text;
  EXPECT_EQ(text.find("differ from the reference's"), std::string::npos) << text;
}

TEST_F(BaselineReplayTest, ASubjectWritingOtherBytesFails) {
  Case c = parse_case(kCase);
  BaselineRecord r = record(c);
  std::string text = replay(c, r, script("other", subject_body(false, "b")), Verdict::fail);
  EXPECT_NE(text.find("out.raw: bytes 65536-69632 differ"), std::string::npos) << text;
}

TEST_F(BaselineReplayTest, AMismatchingRecordedInspectionFails) {
  Case c = parse_case(kCase);
  BaselineRecord r = record(c);
  r.operations[0].inspections[0].out = "size 2097152\n";
  std::string text = replay(c, r, script("same", subject_body(false)), Verdict::fail);
  EXPECT_NE(
      text.find(
          "inspection #1 (qemu-img map --output=json -f raw out.raw) of the files left: stdout differs"),
      std::string::npos)
      << text;
}

TEST_F(BaselineReplayTest, ChangedInspectionsMakeTheRecordStale) {
  Case c = parse_case(kCase);
  BaselineRecord r = record(c);
  c.operations[0].inspect.push_back({"map", "-f", "raw", "in.raw"});
  std::string text = replay(c, r, script("same", subject_body(false)), Verdict::fail);
  EXPECT_NE(text.find("baseline is stale (operation 1's inspections changed)"), std::string::npos) << text;
}

TEST_F(BaselineReplayTest, ARecordFromBeforeInspectionsWereRecordedIsNotStale) {
  Case c = parse_case(kCase);
  BaselineRecord r = record(c);
  r.operations[0].inspections.clear();
  r.operations[0].inspections_recorded = false;
  replay(c, r, script("same", subject_body(false)), Verdict::pass);
  r.operations[0].inspections_recorded = true;  // recorded, and none: the case's inspection is new
  std::string text = replay(c, r, script("same", subject_body(false)), Verdict::fail);
  EXPECT_NE(text.find("baseline is stale (operation 1's inspections changed)"), std::string::npos) << text;
}

TEST_F(BaselineReplayTest, AWritingOperationNamingAPathOutsideIsRefusedUnrun) {
  Case c = parse_case(kCase);
  BaselineRecord r = record(c);
  std::filesystem::path outside = dir_.path() / "outside.raw";
  c.operations[0].args = {"convert", "in.raw", outside.string()};
  r.operations[0].argv = {"qemu-img", "convert", "in.raw", outside.string()};
  std::string text = replay(c, r, script("same", subject_body(false)), Verdict::fail);
  EXPECT_NE(text.find("names a path outside the work directory"), std::string::npos) << text;
  EXPECT_FALSE(std::filesystem::exists(outside));
  c.operations[0].args = {"dd", "if=in.raw", "of=../out.raw"};
  r.operations[0].argv = {"qemu-img", "dd", "if=in.raw", "of=../out.raw"};
  text = replay(c, r, script("same", subject_body(false)), Verdict::fail);
  EXPECT_NE(text.find("names a path outside the work directory"), std::string::npos) << text;
}

TEST_F(BaselineReplayTest, TheRecordSurvivesItsFiles) {
  Case c = parse_case(kCase);
  BaselineRecord r = record(c);
  ScratchDirectory out(default_temp_root(), "baseline-replay-save-");
  save_record(r, out.path());
  BaselineRecord back = load_record(out.path() / "copy.meta.json");
  EXPECT_EQ(back.operations[0].files, r.operations[0].files);
  ASSERT_EQ(back.operations[0].inspections.size(), 1u);
  EXPECT_EQ(back.operations[0].inspections[0].out, r.operations[0].inspections[0].out);
  EXPECT_TRUE(std::filesystem::exists(out.path() / "copy.inspect.1.1.stdout"));
  EXPECT_EQ(record_files(out.path(), "copy").size(),
            5u);  // meta, stdout, stderr, inspection stdout and stderr
  replay(c, back, script("same", subject_body(false)), Verdict::pass);
}

}  // namespace
}  // namespace instar::diff
