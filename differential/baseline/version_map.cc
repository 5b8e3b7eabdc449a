// version_map.cc: which profile holds each recorded qemu-img version, and the fallback for one it lacks.
#include "differential/baseline/version_map.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "differential/case/case.h"

namespace instar::diff {
namespace {

using Json = nlohmann::ordered_json;

std::vector<unsigned long> version_parts(const std::string& v) {
  std::vector<unsigned long> parts;
  std::stringstream in(v);
  for (std::string part; std::getline(in, part, '.');) parts.push_back(std::stoul("0" + part));
  return parts;
}

// The newest of `candidates` not newer than `version`, or the oldest when all are newer.
std::string newest_not_newer(std::vector<std::string> candidates, const std::string& version) {
  std::sort(candidates.begin(), candidates.end(),
            [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
  std::string best = candidates.empty() ? "" : candidates.front();
  for (const std::string& c : candidates)
    if (compare_versions(c, version) <= 0) best = c;
  return best;
}

}  // namespace

int compare_versions(const std::string& a, const std::string& b) {
  auto x = version_parts(a), y = version_parts(b);
  size_t n = std::max(x.size(), y.size());
  x.resize(n);
  y.resize(n);
  return x < y ? -1 : x > y ? 1 : 0;
}

VersionMap load_version_map(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot open");
  VersionMap map;
  try {
    Json root = Json::parse(in);
    for (const auto& [name, p] : root.at("profiles").items())
      map.profiles[name] = BaselineProfile{p.at("versions").get<std::vector<std::string>>(),
                                           p.at("recorded_from").get<std::string>()};
    for (const auto& [version, name] : root.at("version_to_profile").items()) {
      map.version_to_profile[version] = name.get<std::string>();
      if (!map.profiles.count(name.get<std::string>()))
        throw std::runtime_error("version " + version + " maps to unknown profile " +
                                 name.get<std::string>());
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
  return map;
}

void save_version_map(const VersionMap& map, const std::filesystem::path& file) {
  Json root = Json::object();
  Json profiles = Json::object();
  for (const auto& [name, p] : map.profiles)
    profiles[name] = Json{{"versions", p.versions},
                          {"recorded_from", p.recorded_from},
                          {"instar_profile", instar_profile_for(p)}};
  root["profiles"] = profiles;
  Json v2p = Json::object();
  for (const auto& [version, name] : map.version_to_profile) v2p[version] = name;
  root["version_to_profile"] = v2p;
  std::ofstream(file, std::ios::trunc) << root.dump(2) << "\n";
}

std::string resolve_profile(const VersionMap& map, const std::string& version, std::string& warning) {
  warning.clear();
  if (auto it = map.version_to_profile.find(version); it != map.version_to_profile.end()) return it->second;
  std::vector<std::string> versions;
  for (const auto& [v, name] : map.version_to_profile) versions.push_back(v);
  std::string fallback = newest_not_newer(versions, version);
  if (fallback.empty()) {
    warning = "no recorded profiles at all for qemu-img " + version;
    return "";
  }
  std::string name = map.version_to_profile.at(fallback);
  warning = "qemu-img " + version + " was not recorded; falling back to " + name + " (recorded for " +
            fallback + ")";
  return name;
}

std::string instar_profile_for(const BaselineProfile& profile) {
  for (auto it = profile.versions.rbegin(); it != profile.versions.rend(); ++it)
    if (is_known_profile(*it)) return *it;
  return newest_not_newer(known_profiles(), profile.recorded_from);
}

}  // namespace instar::diff
