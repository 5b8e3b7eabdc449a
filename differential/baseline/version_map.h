// version_map.h: which profile holds each recorded qemu-img version, and the fallback for one it lacks.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace instar::diff {

struct BaselineProfile {
  std::vector<std::string> versions;  // oldest first
  std::string recorded_from;          // the version whose records the profile holds (the newest)
};

struct VersionMap {
  std::map<std::string, BaselineProfile> profiles;        // "profile-7.2" -> ...
  std::map<std::string, std::string> version_to_profile;  // "7.2" -> "profile-7.2"
};

// Throws std::runtime_error when the file is missing or malformed.
VersionMap load_version_map(const std::filesystem::path& file);
void save_version_map(const VersionMap& map, const std::filesystem::path& file);

// -1, 0, 1 comparing dotted versions numerically ("7.2" < "10.0").
int compare_versions(const std::string& a, const std::string& b);

// The profile of `version`; one it lacks falls back to the profile of the newest recorded
// version older than it (the oldest profile when none is older), with `warning` set.
std::string resolve_profile(const VersionMap& map, const std::string& version, std::string& warning);

// What instar renders a profile as (INSTAR_QEMU_VERSION): the newest of its versions that instar
// knows, else the known version that version resolves to by the same newest-older rule.
std::string instar_profile_for(const BaselineProfile& profile);

}  // namespace instar::diff
