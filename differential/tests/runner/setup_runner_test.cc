// setup_runner_test.cc: the file steps of a setup, which need no qemu tools.
#include "differential/runner/setup_runner.h"

#include <gtest/gtest.h>

#include "differential/runner/scratch_directory.h"
#include "differential/tests/runner/test_files.h"

namespace instar::diff {
namespace {

using testing::allocated_bytes;
using testing::read_file;

class SetupRunnerTest : public ::testing::Test {
 protected:
  std::string run(const std::string& steps_json) {
    Case c = parse_case(R"({"name": "s", "description": "d", "setup": [)" + steps_json +
                        R"(], "operations": [{"args": ["info"]}]})");
    SetupContext context{profile_tools_in("7.2", "/nonexistent"), dir_.path(), {}, std::chrono::seconds(5)};
    return run_setup(c.setup, context);
  }
  ScratchDirectory dir_{default_temp_root(), "setup-runner-test-"};
};

TEST_F(SetupRunnerTest, FileStepsDoWhatTheySay) {
  EXPECT_EQ(run(R"({"write_file": {"file": "a", "hex": "0011223344"}},
                   {"patch": {"file": "a", "offset": 1, "hex": "ffff"}},
                   {"mkdir": "sub"},
                   {"copy": {"from": "a", "to": "sub/b"}},
                   {"truncate": {"file": "sub/b", "size": 2}},
                   {"truncate": {"file": "big", "size": 1048576}})"),
            "");
  EXPECT_EQ(read_file(dir_.path() / "a"), std::string("\x00\xff\xff\x33\x44", 5));
  EXPECT_EQ(read_file(dir_.path() / "sub" / "b"), std::string("\x00\xff", 2));
  EXPECT_EQ(std::filesystem::file_size(dir_.path() / "big"), 1048576u);
  EXPECT_EQ(allocated_bytes(dir_.path() / "big"), 0u);
}

TEST_F(SetupRunnerTest, PatchingBeyondTheEndExtendsTheFile) {
  EXPECT_EQ(
      run(R"({"write_file": {"file": "a", "hex": "00"}}, {"patch": {"file": "a", "offset": 3, "hex": "01"}})"),
      "");
  EXPECT_EQ(read_file(dir_.path() / "a"), std::string("\x00\x00\x00\x01", 4));
}

TEST_F(SetupRunnerTest, AFailingStepIsNamed) {
  std::string why = run(R"({"mkdir": "d"}, {"patch": {"file": "missing", "offset": 0, "hex": "00"}})");
  EXPECT_NE(why.find("setup step 2 failed: patch missing at 0 (1 bytes: 00): opening missing"),
            std::string::npos)
      << why;
}

TEST_F(SetupRunnerTest, MayFailStepsAreSkippedOver) {
  EXPECT_EQ(run(R"({"copy": {"from": "missing", "to": "b"}, "may_fail": true}, {"mkdir": "d"})"), "");
  EXPECT_TRUE(std::filesystem::is_directory(dir_.path() / "d"));
}

TEST_F(SetupRunnerTest, SymlinksAreNotFollowed) {
  std::filesystem::create_symlink("/etc/hostname", dir_.path() / "link");
  std::string why = run(R"({"patch": {"file": "link", "offset": 0, "hex": "00"}})");
  EXPECT_NE(why, "");
}

TEST_F(SetupRunnerTest, AMissingToolFailsTheStep) {
  std::string why = run(R"({"run": ["qemu-img", "create", "x", "1M"]})");
  EXPECT_NE(why.find("could not start"), std::string::npos) << why;
}

}  // namespace
}  // namespace instar::diff
