// profile_dedup.h: fold versions whose recorded behaviour is identical into one profile of a family.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "differential/baseline/baseline_record.h"
#include "differential/baseline/version_map.h"

namespace instar::diff {

// The recorded version directories of a family's baseline directory ("7.2", "10.0"), oldest first.
std::vector<std::string> recorded_versions(const std::filesystem::path& family_dir);

// Two records behave alike: same operations, exit statuses and outputs once snapshot dates
// (which come from the fixture, made at record time) are masked.
bool same_behaviour(const BaselineRecord& a, const BaselineRecord& b);

// Groups every recorded version by behaviour over all cases, rewrites <family_dir>/profiles/
// (each profile a copy of its newest version's records, named after its oldest version) and
// version-map.json. Returns the map; throws std::runtime_error.
VersionMap build_profiles(const std::filesystem::path& family_dir);

}  // namespace instar::diff
