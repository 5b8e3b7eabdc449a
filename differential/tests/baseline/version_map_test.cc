// version_map_test.cc: profile resolution, including the newest-older fallback and its warning.
#include "differential/baseline/version_map.h"

#include <gtest/gtest.h>

namespace instar::diff {
namespace {

VersionMap two_profiles() {
  VersionMap map;
  map.profiles["profile-7.2"] = BaselineProfile{{"7.2"}, "7.2"};
  map.profiles["profile-10.0"] = BaselineProfile{{"10.0", "10.1"}, "10.1"};
  map.version_to_profile = {{"7.2", "profile-7.2"}, {"10.0", "profile-10.0"}, {"10.1", "profile-10.0"}};
  return map;
}

TEST(VersionMap, ComparesNumerically) {
  EXPECT_LT(compare_versions("7.2", "10.0"), 0);
  EXPECT_EQ(compare_versions("10.0", "10.0.0"), 0);
  EXPECT_GT(compare_versions("10.1", "10.0.9"), 0);
}

TEST(VersionMap, RecordedVersionNeedsNoWarning) {
  std::string warning;
  EXPECT_EQ(resolve_profile(two_profiles(), "10.1", warning), "profile-10.0");
  EXPECT_TRUE(warning.empty());
}

TEST(VersionMap, UnrecordedVersionFallsBackToNewestOlder) {
  std::string warning;
  EXPECT_EQ(resolve_profile(two_profiles(), "9.1", warning), "profile-7.2");
  EXPECT_NE(warning.find("falling back to profile-7.2"), std::string::npos) << warning;
  EXPECT_EQ(resolve_profile(two_profiles(), "11.0", warning), "profile-10.0");
  EXPECT_NE(warning.find("11.0"), std::string::npos);
}

TEST(VersionMap, VersionOlderThanEveryProfileTakesTheOldest) {
  std::string warning;
  EXPECT_EQ(resolve_profile(two_profiles(), "6.0", warning), "profile-7.2");
  EXPECT_FALSE(warning.empty());
}

TEST(VersionMap, InstarRendersTheNewestKnownVersion) {
  EXPECT_EQ(instar_profile_for(BaselineProfile{{"10.0", "10.1"}, "10.1"}), "10.0");
  EXPECT_EQ(instar_profile_for(BaselineProfile{{"8.2"}, "8.2"}), "7.2");
  EXPECT_EQ(instar_profile_for(BaselineProfile{{"7.2"}, "7.2"}), "7.2");
}

}  // namespace
}  // namespace instar::diff
