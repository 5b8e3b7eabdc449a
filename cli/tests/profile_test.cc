#include "cli/profile.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace instar::cli {
namespace {

TEST(Profile, ParsesVersions) {
  EXPECT_EQ(parse_profile("7.2")->name(), "7.2");
  EXPECT_EQ(parse_profile("10.0.2")->name(), "10.0");
  EXPECT_FALSE(parse_profile("ten"));
  EXPECT_FALSE(parse_profile("7.2x"));
}

TEST(Profile, FlagWinsOverEnvironment) {
  setenv("INSTAR_QEMU_VERSION", "7.2", 1);
  std::string warning;
  EXPECT_EQ(select_profile(std::string("10.0"), warning).name(), "10.0");
  EXPECT_EQ(select_profile(std::nullopt, warning).name(), "7.2");
  EXPECT_TRUE(warning.empty());
  unsetenv("INSTAR_QEMU_VERSION");
}

TEST(Profile, UnknownVersionFallsBackToNearestOlderWithWarning) {
  std::string warning;
  EXPECT_EQ(select_profile(std::string("9.1"), warning).name(), "7.2");
  EXPECT_FALSE(warning.empty());
  warning.clear();
  EXPECT_EQ(select_profile(std::string("11.2"), warning).name(), "10.0");
  EXPECT_FALSE(warning.empty());
}

TEST(Profile, NoQemuImgMeansNewestProfile) {
  const char* old_path = getenv("PATH");
  std::string saved = old_path ? old_path : "";
  setenv("PATH", "/nonexistent", 1);
  unsetenv("INSTAR_QEMU_VERSION");
  std::string warning;
  EXPECT_EQ(select_profile(std::nullopt, warning).name(), "10.0");
  setenv("PATH", saved.c_str(), 1);
}

}  // namespace
}  // namespace instar::cli
