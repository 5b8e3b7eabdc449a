// tripwire_test.cc: the tripwire names a case without a baseline and a baseline without a case.
#include "differential/baseline/tripwire.h"

#include <gtest/gtest.h>

#include <fstream>

#include "differential/baseline/baseline_record.h"
#include "differential/baseline/profile_dedup.h"
#include "differential/runner/scratch_directory.h"

namespace instar::diff {
namespace {

void write_case(const std::filesystem::path& dir, const std::string& name, const std::string& profiles = "") {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / (name + ".json"))
      << R"({"name": ")" << name << R"(", "description": "tripwire test", )"
      << (profiles.empty() ? "" : R"("profiles": [")" + profiles + R"("], )")
      << R"("setup": [], "operations": [{"args": ["info", "x"]}], "compare": ["exit"]})";
}

void write_record(const std::filesystem::path& dir, const std::string& name, const std::string& version) {
  BaselineRecord r;
  r.case_name = name;
  r.version = version;
  r.tool_version = "qemu-img version " + version + ".0";
  r.operations.push_back(
      RecordedOperation{{"qemu-img", "info", "x"}, 1, "", "no such file\n", {}, false, std::nullopt});
  save_record(r, dir / version);
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

TEST(Tripwire, AgreeingFamilyPassesAndIdenticalVersionsShareAProfile) {
  ScratchDirectory root(default_temp_root(), "tripwire-test-");
  write_case(root.path() / "cases", "a");
  write_record(root.path() / "baselines", "a", "7.2");
  write_record(root.path() / "baselines", "a", "10.0");
  VersionMap map = build_profiles(root.path() / "baselines");
  EXPECT_EQ(map.profiles.size(), 1u);
  EXPECT_EQ(map.version_to_profile.at("10.0"), "profile-7.2");
  EXPECT_EQ(map.profiles.at("profile-7.2").recorded_from, "10.0");
  auto problems = check_family(root.path() / "cases", root.path() / "baselines");
  EXPECT_TRUE(problems.empty()) << problems.front();
}

TEST(Tripwire, CatchesCaseWithoutBaselineAndBaselineWithoutCase) {
  ScratchDirectory root(default_temp_root(), "tripwire-test-");
  write_case(root.path() / "cases", "a");
  write_case(root.path() / "cases", "new-case");
  write_record(root.path() / "baselines", "a", "7.2");
  write_record(root.path() / "baselines", "gone", "7.2");
  build_profiles(root.path() / "baselines");
  auto problems = check_family(root.path() / "cases", root.path() / "baselines");
  EXPECT_TRUE(mentions(problems, "case new-case has no baseline")) << problems.size();
  EXPECT_TRUE(mentions(problems, "baseline gone has no case"));
}

TEST(Tripwire, ExpectsACaseOnlyWhereItsProfilesApply) {
  ScratchDirectory root(default_temp_root(), "tripwire-test-");
  write_case(root.path() / "cases", "a");
  write_case(root.path() / "cases", "only-10", "10.0");
  write_record(root.path() / "baselines", "a", "7.2");
  write_record(root.path() / "baselines", "a", "10.0");
  write_record(root.path() / "baselines", "only-10", "10.0");
  build_profiles(root.path() / "baselines");
  auto problems = check_family(root.path() / "cases", root.path() / "baselines");
  EXPECT_TRUE(problems.empty()) << problems.front();
  std::filesystem::remove(root.path() / "baselines" / "10.0" / "only-10.meta.json");
  std::filesystem::remove_all(root.path() / "baselines" / "profiles");
  build_profiles(root.path() / "baselines");
  problems = check_family(root.path() / "cases", root.path() / "baselines");
  EXPECT_TRUE(mentions(problems, "case only-10 has no baseline")) << problems.size();
}

TEST(Tripwire, NotRecordedCasesNeedAReasonAndNoBaseline) {
  ScratchDirectory root(default_temp_root(), "tripwire-test-");
  write_case(root.path() / "cases", "a");
  write_case(root.path() / "cases", "huge");
  write_record(root.path() / "baselines", "a", "7.2");
  build_profiles(root.path() / "baselines");
  std::ofstream(root.path() / "baselines" / "not-recorded.txt") << "# comment\nhuge: too much data\n";
  auto problems = check_family(root.path() / "cases", root.path() / "baselines");
  EXPECT_TRUE(problems.empty()) << problems.front();
  std::ofstream(root.path() / "baselines" / "not-recorded.txt") << "huge\ngone: no such case\n";
  problems = check_family(root.path() / "cases", root.path() / "baselines");
  EXPECT_TRUE(mentions(problems, "is not \"case: why\"")) << problems.size();
  EXPECT_TRUE(mentions(problems, "gone is not a case"));
  EXPECT_TRUE(mentions(problems, "case huge has no baseline"));
}

TEST(Tripwire, CatchesStaleRecordAndUnmappedVersion) {
  ScratchDirectory root(default_temp_root(), "tripwire-test-");
  write_case(root.path() / "cases", "a");
  write_record(root.path() / "baselines", "a", "7.2");
  build_profiles(root.path() / "baselines");
  write_record(root.path() / "baselines", "a", "10.0");  // recorded, profiles not rebuilt
  BaselineRecord stale = load_record(root.path() / "baselines" / "7.2" / "a.meta.json");
  stale.operations[0].argv.push_back("--output=json");
  save_record(stale, root.path() / "baselines" / "7.2");
  auto problems = check_family(root.path() / "cases", root.path() / "baselines");
  EXPECT_TRUE(mentions(problems, "re-record it"));
  EXPECT_TRUE(mentions(problems, "version 10.0 is not in version-map.json"));
}

TEST(Tripwire, FamilyWithoutBaselinesFails) {
  ScratchDirectory root(default_temp_root(), "tripwire-test-");
  write_case(root.path() / "cases", "a");
  EXPECT_TRUE(
      mentions(check_family(root.path() / "cases", root.path() / "baselines"), "no recorded version"));
}

}  // namespace
}  // namespace instar::diff
