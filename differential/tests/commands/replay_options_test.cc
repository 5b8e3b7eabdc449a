// replay_options_test.cc: the command line of `instar-diff replay`.
#include "differential/commands/replay_options.h"

#include <gtest/gtest.h>

namespace instar::diff {
namespace {

TEST(ReplayOptions, ReadsEveryOption) {
  auto r = parse_replay_options({"--subject", "/s", "--qemu", "7.2=/usr/bin", "--qemu=10.0=/q", "--profile",
                                 "7.2", "--timeout", "1.5", "--keep", "a.json", "dir"});
  ASSERT_EQ(r.error, "");
  const ReplayOptions& o = r.options;
  EXPECT_EQ(o.subject_of("7.2"), std::filesystem::path("/s"));
  EXPECT_EQ(o.qemu_dir.at("7.2"), "/usr/bin");
  EXPECT_EQ(o.qemu_dir.at("10.0"), "/q");
  EXPECT_EQ(o.profiles, std::vector<std::string>{"7.2"});
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(1500));
  EXPECT_TRUE(o.keep);
  EXPECT_EQ(o.cases, (std::vector<std::filesystem::path>{"a.json", "dir"}));
}

TEST(ReplayOptions, APerProfileSubjectOverridesTheDefault) {
  auto r = parse_replay_options({"--subject", "/s", "--subject", "10.0=/t", "c.json"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.subject_of("7.2"), std::filesystem::path("/s"));
  EXPECT_EQ(r.options.subject_of("10.0"), std::filesystem::path("/t"));
}

TEST(ReplayOptions, UsageErrors) {
  EXPECT_EQ(parse_replay_options({"--subject", "/s"}).error, "no case files given");
  EXPECT_EQ(parse_replay_options({"--subject"}).error, "--subject needs a value");
  EXPECT_NE(parse_replay_options({"--qemu", "/usr/bin", "c"}).error.find("expected PROFILE=DIR"),
            std::string::npos);
  EXPECT_NE(parse_replay_options({"--qemu", "9.1=/usr/bin", "c"}).error.find("unknown profile \"9.1\""),
            std::string::npos);
  EXPECT_NE(parse_replay_options({"--profile", "6.0", "c"}).error.find("unknown profile"), std::string::npos);
  EXPECT_NE(parse_replay_options({"--timeout", "0", "c"}).error.find("--timeout 0"), std::string::npos);
  EXPECT_NE(parse_replay_options({"--timeout", "soon", "c"}).error.find("--timeout"), std::string::npos);
  EXPECT_EQ(parse_replay_options({"--frobnicate", "c"}).error, "unknown option --frobnicate");
}

TEST(ReplayOptions, HelpNeedsNothingElse) {
  auto r = parse_replay_options({"--help"});
  EXPECT_EQ(r.error, "");
  EXPECT_TRUE(r.options.help);
}

TEST(ReplayOptions, DoubleDashEndsOptions) {
  auto r = parse_replay_options({"--", "--odd-name.json"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.cases, std::vector<std::filesystem::path>{"--odd-name.json"});
}

}  // namespace
}  // namespace instar::diff
