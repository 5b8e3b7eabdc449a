// replay_test.cc: end to end with the host's qemu-img as reference, and qemu-img or impostors as subject.
#include "differential/runner/replay.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "differential/runner/scratch_directory.h"
#include "differential/tests/runner/test_files.h"

namespace instar::diff {
namespace {

constexpr const char* kQemuDir = "/usr/bin";

std::string all_text(const CaseReport& report) { return format_report(report); }

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access((std::string(kQemuDir) + "/qemu-img").c_str(), X_OK) != 0) {
      GTEST_SKIP() << "no qemu-img in " << kQemuDir << ": end-to-end replay needs a reference qemu-img";
    }
    for (const auto& profile : known_profiles()) {
      ProfileTools tools = profile_tools_in(profile, kQemuDir);
      if (check_profile_tools(tools, std::chrono::seconds(30)).empty()) tools_ = tools;
    }
    if (tools_.profile.empty()) GTEST_SKIP() << "the qemu-img in " << kQemuDir << " matches no known profile";
  }

  // A subject script in the scratch directory.
  std::filesystem::path script(const std::string& name, const std::string& body) {
    std::filesystem::path path = dir_.path() / name;
    testing::write_file(path, "#!/bin/sh\n" + body);
    chmod(path.c_str(), 0755);
    return path;
  }

  CaseReport replay(const std::string& case_json, const std::filesystem::path& subject,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    ReplayConfig config;
    config.tools = tools_;
    config.subject = subject;
    config.timeout = timeout;
    return replay_case(parse_case(case_json), config);
  }

  ProfileTools tools_;
  ScratchDirectory dir_{default_temp_root(), "replay-test-"};
};

constexpr const char* kInfoCase = R"json({
  "name": "info-with-snapshot",
  "description": "a qcow2 with data and a snapshot (whose date differs per setup)",
  "env": {"TZ": "UTC"},
  "setup": [
    {"run": ["qemu-img", "create", "-q", "-f", "qcow2", "img.qcow2", "16M"]},
    {"run": ["qemu-io", "-c", "write -P 0xaa 0 64k", "img.qcow2"]},
    {"run": ["qemu-img", "snapshot", "-c", "one", "img.qcow2"]}
  ],
  "operations": [
    {"args": ["info", "img.qcow2"]},
    {"args": ["info", "--output=json", "img.qcow2"]},
    {"args": ["info", "missing.qcow2"]}
  ]
})json";

TEST_F(ReplayTest, QemuImgAsItsOwnSubjectPasses) {
  CaseReport r = replay(kInfoCase, std::string(kQemuDir) + "/qemu-img");
  EXPECT_EQ(r.verdict, Verdict::pass) << all_text(r);
  ASSERT_EQ(r.operations.size(), 3u);
  for (const auto& op : r.operations) EXPECT_EQ(op.verdict, Verdict::pass);
  EXPECT_EQ(all_text(r).substr(0, 5), "PASS ");
}

TEST_F(ReplayTest, ASubjectPrintingSomethingElseFails) {
  CaseReport r = replay(kInfoCase, script("impostor", "echo something else\n"));
  EXPECT_EQ(r.verdict, Verdict::fail);
  std::string text = all_text(r);
  EXPECT_NE(text.find("FAIL info-with-snapshot [" + tools_.profile + "] #1: qemu-img info img.qcow2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("stdout differs"), std::string::npos);
  EXPECT_NE(text.find("+something else"), std::string::npos);
  EXPECT_NE(text.find("-image: img.qcow2"), std::string::npos);
  EXPECT_NE(text.find("exit status differs: reference exit 1, subject exit 0"), std::string::npos);
}

TEST_F(ReplayTest, TheSubjectIsCalledQemuImgAndToldItsProfile) {
  std::string body =
      "if [ \"$(basename \"$0\")\" = qemu-img ] && [ \"$INSTAR_QEMU_VERSION\" = " + tools_.profile +
      " ]; then exec " + kQemuDir + "/qemu-img \"$@\"; fi\necho \"$0 $INSTAR_QEMU_VERSION\"\n";
  CaseReport r = replay(kInfoCase, script("checks-its-name", body));
  EXPECT_EQ(r.verdict, Verdict::pass) << all_text(r);
}

TEST_F(ReplayTest, ASubjectThatWritesDuringAReadOnlyOperationFails) {
  std::string body =
      std::string(kQemuDir) + "/qemu-img \"$@\"; rc=$?; [ -e img.qcow2 ] && echo x >> img.qcow2; exit $rc\n";
  CaseReport r = replay(kInfoCase, script("scribbler", body));
  EXPECT_EQ(r.verdict, Verdict::fail);
  std::string text = all_text(r);
  EXPECT_NE(text.find("subject modified img.qcow2 during a read-only operation (size "), std::string::npos)
      << text;
  // Only the writes: each operation's exit status and output still matched.
  EXPECT_EQ(text.find("differs"), std::string::npos) << text;
}

TEST_F(ReplayTest, WritingIsAllowedWhenTheOperationSaysSo) {
  std::string body = std::string(kQemuDir) + "/qemu-img \"$@\"; rc=$?; echo x >> img.qcow2; exit $rc\n";
  CaseReport r = replay(R"({"name": "w", "description": "d",
      "setup": [{"run": ["qemu-img", "create", "-q", "-f", "qcow2", "img.qcow2", "1M"]}],
      "operations": [{"args": ["info", "img.qcow2"], "writes": true}]})",
                        script("writer", body));
  EXPECT_EQ(r.verdict, Verdict::pass) << all_text(r);
}

TEST_F(ReplayTest, TheDirectoryIsRestoredBetweenReferenceAndSubject) {
  // Deleting a snapshot twice fails; each side must see the image as set up.
  CaseReport r = replay(R"({"name": "w", "description": "d",
      "setup": [{"run": ["qemu-img", "create", "-q", "-f", "qcow2", "img.qcow2", "1M"]},
                {"run": ["qemu-img", "snapshot", "-c", "s", "img.qcow2"]}],
      "operations": [{"args": ["snapshot", "-d", "s", "img.qcow2"], "writes": true},
                     {"args": ["snapshot", "-d", "s", "img.qcow2"], "writes": true}],
      "compare": ["exit", "stdout", "stderr", "files"]})",
                        std::string(kQemuDir) + "/qemu-img");
  ASSERT_EQ(r.operations.size(), 2u);
  EXPECT_EQ(r.verdict, Verdict::pass) << all_text(r);
}

TEST_F(ReplayTest, FilesAreComparedWhenAsked) {
  std::string body = std::string(kQemuDir) + "/qemu-img \"$@\"; rc=$?; echo x >> new.qcow2; exit $rc\n";
  CaseReport r = replay(R"({"name": "w", "description": "d",
      "operations": [{"args": ["create", "-q", "-f", "qcow2", "new.qcow2", "1M"], "writes": true}],
      "compare": ["exit", "files"]})",
                        script("appender", body));
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(all_text(r).find("new.qcow2: size "), std::string::npos) << all_text(r);
}

TEST_F(ReplayTest, InspectionsSeeTheHolesEachSideLeft) {
  // The same bytes, but the impostor writes the zeroes instead of leaving a hole: only the
  // reference qemu-img's map of each side's output can tell.
  constexpr const char* kConvertCase = R"({"name": "w", "description": "d",
      "setup": [{"run": ["qemu-img", "create", "-q", "-f", "qcow2", "img.qcow2", "1M"]},
                {"run": ["qemu-io", "-c", "write -P 0xaa 0 64k", "img.qcow2"]}],
      "operations": [{"args": ["convert", "-O", "raw", "img.qcow2", "out.raw"], "writes": true,
                      "inspect": [["map", "--output=json", "-f", "raw", "out.raw"]]}],
      "compare": ["exit", "stdout", "stderr", "files"]})";
  CaseReport same = replay(kConvertCase, std::string(kQemuDir) + "/qemu-img");
  EXPECT_EQ(same.verdict, Verdict::pass) << all_text(same);
  std::string body = std::string(kQemuDir) + "/qemu-img \"$@\"; rc=$?; " + kQemuDir +
                     "/qemu-img convert -S 0 -O raw img.qcow2 out.raw; exit $rc\n";
  CaseReport r = replay(kConvertCase, script("filler", body));
  EXPECT_EQ(r.verdict, Verdict::fail);
  std::string text = all_text(r);
  EXPECT_NE(
      text.find(
          "inspection #1 (qemu-img map --output=json -f raw out.raw) of the files left: stdout differs"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.find("files differ afterwards"), std::string::npos) << text;
}

TEST_F(ReplayTest, ATimeoutIsReportedAsSuch) {
  CaseReport r = replay(R"({"name": "t", "description": "d", "operations": [{"args": ["--version"]}]})",
                        script("sleeper", "sleep 30\n"), std::chrono::milliseconds(2000));
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(all_text(r).find("subject timed out after 2 s"), std::string::npos) << all_text(r);
}

TEST_F(ReplayTest, AFailingSetupStepFailsTheCase) {
  CaseReport r = replay(R"({"name": "s", "description": "d",
      "setup": [{"run": ["qemu-img", "create", "-f", "nosuchformat", "x", "1M"]}],
      "operations": [{"args": ["info", "x"]}]})",
                        std::string(kQemuDir) + "/qemu-img");
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_TRUE(r.operations.empty());
  EXPECT_NE(r.message.find("setup step 1 failed: qemu-img create -f nosuchformat x 1M: exit 1"),
            std::string::npos)
      << r.message;
  EXPECT_NE(r.message.find("nosuchformat"), std::string::npos);
}

TEST_F(ReplayTest, AStepThatMayFailDoesNotFailTheCase) {
  CaseReport r = replay(R"({"name": "s", "description": "d",
      "setup": [{"run": ["qemu-img", "create", "-f", "nosuchformat", "x", "1M"], "may_fail": true}],
      "operations": [{"args": ["info", "x"]}]})",
                        std::string(kQemuDir) + "/qemu-img");
  EXPECT_EQ(r.verdict, Verdict::pass) << all_text(r);
}

TEST_F(ReplayTest, ACaseForOtherProfilesIsSkipped) {
  std::string other = tools_.profile == "7.2" ? "10.0" : "7.2";
  CaseReport r = replay(R"({"name": "p", "description": "d", "profiles": [")" + other +
                            R"("], "operations": [{"args": ["info", "x"]}]})",
                        std::string(kQemuDir) + "/qemu-img");
  EXPECT_EQ(r.verdict, Verdict::skip);
  EXPECT_EQ(all_text(r),
            "SKIP p [" + tools_.profile + "]: the case does not apply to profile " + tools_.profile + "\n");
}

TEST_F(ReplayTest, KeepLeavesTheDirectoryBehind) {
  ReplayConfig config;
  config.tools = tools_;
  config.subject = std::string(kQemuDir) + "/qemu-img";
  config.keep = true;
  config.temp_root = dir_.path();
  CaseReport r = replay_case(parse_case(kInfoCase), config);
  ASSERT_FALSE(r.kept_directory.empty());
  EXPECT_TRUE(std::filesystem::exists(r.kept_directory / "snapshot" / "img.qcow2"));
  EXPECT_TRUE(std::filesystem::is_symlink(r.kept_directory / "bin" / "qemu-img"));
  EXPECT_NE(all_text(r).find("kept " + r.kept_directory.string()), std::string::npos);
}

TEST_F(ReplayTest, ProfileToolsOfAnotherVersionAreRejected) {
  std::string other = tools_.profile == "7.2" ? "10.0" : "7.2";
  std::string why = check_profile_tools(profile_tools_in(other, kQemuDir), std::chrono::seconds(30));
  EXPECT_NE(why.find("qemu-img for profile " + other + " is the wrong version"), std::string::npos) << why;
  EXPECT_NE(why.find("expected \"qemu-img version " + other + ".*\""), std::string::npos) << why;
}

TEST(ProfileTools, MissingToolsAreNamed) {
  std::string why = check_profile_tools(profile_tools_in("10.0", "/nonexistent"), std::chrono::seconds(5));
  EXPECT_EQ(why, "qemu-img for profile 10.0 is missing: /nonexistent/qemu-img (No such file or directory)");
}

}  // namespace
}  // namespace instar::diff
