// tripwire.cc: the check that a case family and its recorded baselines still describe the same cases.
#include "differential/baseline/tripwire.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "differential/baseline/baseline_record.h"
#include "differential/baseline/profile_dedup.h"
#include "differential/baseline/version_map.h"
#include "differential/case/case.h"

namespace instar::diff {
namespace {

// Checks one version or profile directory against the cases; `profile` is the instar profile it is
// replayed with (a case restricted to other profiles is neither recorded nor expected there).
void check_directory(const std::map<std::string, Case>& cases, const std::set<std::string>& exempt,
                     const std::filesystem::path& dir, const std::string& profile,
                     std::vector<std::string>& problems) {
  std::string where = dir.string();
  std::set<std::string> recorded;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string file = e.path().filename().string();
    std::string name = record_case_of(e.path());
    if (name.empty()) {
      problems.push_back(where + ": " + file + " is not a baseline file");
      continue;
    }
    if (!file.ends_with(".meta.json")) {
      if (!std::filesystem::exists(dir / (name + ".meta.json")))
        problems.push_back(where + ": " + file + " belongs to no meta.json");
      continue;
    }
    recorded.insert(name);
    auto it = cases.find(name);
    if (it == cases.end()) {
      problems.push_back(where + ": baseline " + name + " has no case (remove it or restore the case)");
      continue;
    }
    try {
      BaselineRecord r = load_record(e.path());
      const Case& c = it->second;
      bool same_ops = r.operations.size() == c.operations.size();
      for (size_t i = 0; same_ops && i < c.operations.size(); i++) {
        std::vector<std::string> argv = {"qemu-img"};
        argv.insert(argv.end(), c.operations[i].args.begin(), c.operations[i].args.end());
        same_ops = argv == r.operations[i].argv;
        std::vector<std::vector<std::string>> inspected;
        for (const RecordedInspection& in : r.operations[i].inspections) inspected.push_back(in.args);
        same_ops =
            same_ops && (!r.operations[i].inspections_recorded || inspected == c.operations[i].inspect);
      }
      if (!same_ops || steps_json(r.setup) != steps_json(c.setup))
        problems.push_back(where + ": baseline " + name +
                           " was recorded from another setup or other operations " +
                           "than the case has now; re-record it");
    } catch (const std::exception& ex) {
      problems.push_back(ex.what());
    }
  }
  for (const auto& [name, c] : cases) {
    if (recorded.count(name) && exempt.count(name))
      problems.push_back(where + ": case " + name + " has a baseline but not-recorded.txt lists it");
    else if (!recorded.count(name) && c.applies_to(profile) && !exempt.count(name))
      problems.push_back(where + ": case " + name + " has no baseline (record it)");
  }
}

// <family>/not-recorded.txt: "case: why" per line, for cases a fixture cannot hold (more non-zero data
// than it keeps). Each line must name a case of the family and give a reason.
std::set<std::string> not_recorded(const std::filesystem::path& baselines_dir, const std::map<std::string, Case>& cases,
                                   std::vector<std::string>& problems) {
  std::set<std::string> names;
  std::filesystem::path file = baselines_dir / "not-recorded.txt";
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(": ");
    std::string name = line.substr(0, colon);
    if (colon == std::string::npos || colon + 2 >= line.size()) {
      problems.push_back(file.string() + ": \"" + line + "\" is not \"case: why\"");
    } else if (!cases.count(name)) {
      problems.push_back(file.string() + ": " + name + " is not a case of the family");
    } else {
      names.insert(name);
    }
  }
  return names;
}

}  // namespace

std::vector<std::string> check_family(const std::filesystem::path& cases_dir,
                                      const std::filesystem::path& baselines_dir) {
  std::vector<std::string> problems;
  std::map<std::string, Case> cases;
  for (const auto& e : std::filesystem::directory_iterator(cases_dir)) {
    if (e.path().extension() != ".json") continue;
    try {
      Case c = load_case(e.path());
      if (c.name != e.path().stem().string())
        problems.push_back(e.path().string() + ": name \"" + c.name + "\" is not the file's name");
      cases[e.path().stem().string()] = std::move(c);
    } catch (const std::exception& ex) {
      problems.push_back(ex.what());
    }
  }
  // Cases the family says it cannot record are neither expected nor allowed a baseline.
  std::set<std::string> exempt = not_recorded(baselines_dir, cases, problems);
  std::vector<std::string> versions = recorded_versions(baselines_dir);
  if (versions.empty()) {
    problems.push_back(baselines_dir.string() + ": no recorded version (the family has no baselines)");
    return problems;
  }
  for (const std::string& v : versions) check_directory(cases, exempt, baselines_dir / v, v, problems);
  std::filesystem::path profiles = baselines_dir / "profiles";
  VersionMap map;
  try {
    map = load_version_map(profiles / "version-map.json");
  } catch (const std::exception& ex) {
    problems.push_back(std::string(ex.what()) + " (run instar-diff record)");
    return problems;
  }
  for (const std::string& v : versions)
    if (!map.version_to_profile.count(v))
      problems.push_back(baselines_dir.string() + ": version " + v + " is not in version-map.json");
  for (const auto& [v, name] : map.version_to_profile)
    if (std::find(versions.begin(), versions.end(), v) == versions.end())
      problems.push_back(baselines_dir.string() + ": version-map.json names version " + v +
                         ", which has no directory");
  for (const auto& [name, p] : map.profiles) {
    if (!std::filesystem::is_directory(profiles / name)) {
      problems.push_back(profiles.string() + ": profile " + name + " has no directory");
      continue;
    }
    check_directory(cases, exempt, profiles / name, instar_profile_for(p), problems);
  }
  for (const auto& e : std::filesystem::directory_iterator(profiles))
    if (e.is_directory() && !map.profiles.count(e.path().filename().string()))
      problems.push_back(profiles.string() + ": " + e.path().filename().string() +
                         " is not in version-map.json");
  return problems;
}

}  // namespace instar::diff
