#include "cli/profile.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>

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

namespace instar::cli {
namespace {

// A fake qemu-img that counts its runs: the version is asked once, then read from the cache.
TEST(Profile, InstalledVersionIsDetectedOnceThenCached) {
  char dir_template[] = "/tmp/instar-profile-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  std::string script = dir + "/qemu-img";
  FILE* f = fopen(script.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fprintf(f, "#!/bin/sh\necho run >> %s/runs\necho 'qemu-img version 7.2.9 (test)'\n", dir.c_str());
  fclose(f);
  chmod(script.c_str(), 0755);
  std::string saved_path = getenv("PATH") ? getenv("PATH") : "";
  setenv("PATH", (dir + ":/usr/bin:/bin").c_str(), 1);
  setenv("XDG_CACHE_HOME", (dir + "/cache").c_str(), 1);
  unsetenv("INSTAR_QEMU_VERSION");
  std::string warning;
  EXPECT_EQ(select_profile(std::nullopt, warning).name(), "7.2");
  EXPECT_EQ(select_profile(std::nullopt, warning).name(), "7.2");
  setenv("PATH", saved_path.c_str(), 1);
  unsetenv("XDG_CACHE_HOME");
  FILE* runs = fopen((dir + "/runs").c_str(), "r");
  ASSERT_NE(runs, nullptr);
  int lines = 0;
  for (int c; (c = fgetc(runs)) != EOF;) lines += c == '\n';
  fclose(runs);
  EXPECT_EQ(lines, 1);
  std::string cleanup = "rm -rf '" + dir + "'";
  EXPECT_EQ(system(cleanup.c_str()), 0);
}

}  // namespace
}  // namespace instar::cli
