// baseline_record_test.cc: records survive a save and load, large outputs compressed, paths as placeholders.
#include "differential/baseline/baseline_record.h"

#include <gtest/gtest.h>

#include "differential/baseline/placeholder.h"
#include "differential/runner/scratch_directory.h"

namespace instar::diff {
namespace {

BaselineRecord sample(size_t operations) {
  BaselineRecord r;
  r.case_name = "raw-sparse";
  r.version = "7.2";
  r.tool_version = "qemu-img version 7.2.0";
  r.setup = {SetupStep{RunStep{{"qemu-img", "create", "-f", "raw", "img.raw", "1M"}}, false, 1}};
  r.fixture = {SetupStep{TruncateStep{"img.raw", 1 << 20}, false, 1},
               SetupStep{PatchStep{"img.raw", 512, std::string("\x01\x00\x02", 3)}, false, 1}};
  for (size_t i = 0; i < operations; i++)
    r.operations.push_back(RecordedOperation{{"qemu-img", "info", "img.raw"},
                                             static_cast<int>(i),
                                             "out " + std::to_string(i),
                                             std::string(20000, 'e'),
                                             {},
                                             false,
                                             std::nullopt});
  return r;
}

TEST(BaselineRecord, RoundTripsThroughItsFiles) {
  ScratchDirectory dir(default_temp_root(), "baseline-test-");
  BaselineRecord r = sample(2);
  save_record(r, dir.path());
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "raw-sparse.stdout.2"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "raw-sparse.stderr.1.zst"));
  EXPECT_LT(std::filesystem::file_size(dir.path() / "raw-sparse.stderr.1.zst"), 200u);
  BaselineRecord back = load_record(dir.path() / "raw-sparse.meta.json");
  EXPECT_EQ(back.tool_version, r.tool_version);
  EXPECT_EQ(steps_json(back.setup), steps_json(r.setup));
  EXPECT_EQ(steps_json(back.fixture), steps_json(r.fixture));
  ASSERT_EQ(back.operations.size(), 2u);
  EXPECT_EQ(back.operations[1].exit_code, 1);
  EXPECT_EQ(back.operations[1].out, "out 1");
  EXPECT_EQ(back.operations[0].err, r.operations[0].err);
  EXPECT_EQ(record_files(dir.path(), "raw-sparse").size(), 5u);
}

TEST(BaselineRecord, SingleOperationHasNoSuffixAndStaleFilesGo) {
  ScratchDirectory dir(default_temp_root(), "baseline-test-");
  save_record(sample(2), dir.path());
  save_record(sample(1), dir.path());
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "raw-sparse.stdout"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "raw-sparse.stdout.2"));
  EXPECT_EQ(record_files(dir.path(), "raw-sparse").size(), 3u);
}

TEST(BaselineRecord, NamesItsFiles) {
  EXPECT_EQ(record_case_of("a-b.stdout.12.zst"), "a-b");
  EXPECT_EQ(record_case_of("x.meta.json"), "x");
  EXPECT_EQ(record_case_of("x.stderr"), "x");
  EXPECT_EQ(record_case_of("x.inspect.2.1.stdout"), "x");
  EXPECT_EQ(record_case_of("x.inspect.1.3.stderr.zst"), "x");
  EXPECT_EQ(record_case_of("version-map.json"), "");
}

TEST(Placeholder, SubstitutesTheDirectoryBothWays) {
  std::string text = "image: /tmp/instar-diff-abc123/work/a.qcow2\nbacking: /tmp/instar-diff-abc123/work/b\n";
  std::string stored = to_placeholder(text, "/tmp/instar-diff-abc123/work");
  EXPECT_EQ(stored, "image: @WORKDIR@/a.qcow2\nbacking: @WORKDIR@/b\n");
  EXPECT_EQ(from_placeholder(stored, "/tmp/instar-diff-abc123/work"), text);
}

}  // namespace
}  // namespace instar::diff
