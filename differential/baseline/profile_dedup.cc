// profile_dedup.cc: fold versions whose recorded behaviour is identical into one profile of a family.
#include "differential/baseline/profile_dedup.h"

#include <algorithm>
#include <map>
#include <regex>

namespace instar::diff {
namespace {

using Records = std::map<std::string, BaselineRecord>;  // by case name

Records load_records(const std::filesystem::path& dir) {
  Records records;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() > 10 && name.ends_with(".meta.json")) {
      BaselineRecord r = load_record(e.path());
      records[r.case_name] = std::move(r);
    }
  }
  return records;
}

std::string mask_dates(const std::string& text) {
  static const std::regex dates(R"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}|"date-n?sec": \d+)");
  return std::regex_replace(text, dates, "<date>");
}

bool same_records(const Records& a, const Records& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, r] : a) {
    auto it = b.find(name);
    if (it == b.end() || !same_behaviour(r, it->second)) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> recorded_versions(const std::filesystem::path& family_dir) {
  static const std::regex version(R"(\d+(\.\d+)*)");
  std::vector<std::string> versions;
  if (!std::filesystem::is_directory(family_dir)) return versions;
  for (const auto& e : std::filesystem::directory_iterator(family_dir)) {
    std::string name = e.path().filename().string();
    if (e.is_directory() && std::regex_match(name, version)) versions.push_back(name);
  }
  std::sort(versions.begin(), versions.end(),
            [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
  return versions;
}

bool same_behaviour(const BaselineRecord& a, const BaselineRecord& b) {
  if (a.operations.size() != b.operations.size()) return false;
  for (size_t i = 0; i < a.operations.size(); i++) {
    const RecordedOperation &x = a.operations[i], &y = b.operations[i];
    if (x.argv != y.argv || x.exit_code != y.exit_code || mask_dates(x.out) != mask_dates(y.out) ||
        mask_dates(x.err) != mask_dates(y.err) || x.files != y.files ||
        x.inspections_recorded != y.inspections_recorded || x.inspections.size() != y.inspections.size())
      return false;
    for (size_t k = 0; k < x.inspections.size(); k++) {
      const RecordedInspection &p = x.inspections[k], &q = y.inspections[k];
      if (p.args != q.args || p.exit_code != q.exit_code || mask_dates(p.out) != mask_dates(q.out) ||
          mask_dates(p.err) != mask_dates(q.err))
        return false;
    }
  }
  return true;
}

VersionMap build_profiles(const std::filesystem::path& family_dir) {
  std::vector<std::string> versions = recorded_versions(family_dir);
  std::vector<std::pair<std::string, Records>> groups;  // newest version's records per group
  VersionMap map;
  for (const std::string& v : versions) {
    Records records = load_records(family_dir / v);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return same_records(g.second, records); });
    if (it == groups.end()) {
      std::string name = "profile-" + v;
      groups.emplace_back(name, std::move(records));
      map.profiles[name] = BaselineProfile{{v}, v};
      map.version_to_profile[v] = name;
    } else {
      it->second = std::move(records);  // versions are oldest first: keep the newest's records
      map.profiles[it->first].versions.push_back(v);
      map.profiles[it->first].recorded_from = v;
      map.version_to_profile[v] = it->first;
    }
  }
  std::filesystem::path profiles_dir = family_dir / "profiles";
  std::filesystem::remove_all(profiles_dir);
  for (const auto& [name, records] : groups) {
    for (const auto& [case_name, record] : records) save_record(record, profiles_dir / name);
  }
  std::filesystem::create_directories(profiles_dir);
  save_version_map(map, profiles_dir / "version-map.json");
  return map;
}

}  // namespace instar::diff
