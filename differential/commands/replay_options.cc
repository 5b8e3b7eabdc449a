// replay_options.cc: the command line of `instar-diff replay`, parsed and checked.
#include "differential/commands/replay_options.h"

#include <algorithm>
#include <cmath>

#include "differential/case/case.h"

namespace instar::diff {
namespace {

// "--name value" or "--name=value"; advances i past what it used.
bool take_value(const std::vector<std::string>& args, size_t& i, std::string_view name, std::string& value,
                std::string& error) {
  const std::string& arg = args[i];
  if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 && arg[name.size()] == '=') {
    value = arg.substr(name.size() + 1);
    return true;
  }
  if (arg != name) return false;
  if (i + 1 >= args.size()) {
    error = std::string(name) + " needs a value";
    return true;
  }
  value = args[++i];
  return true;
}

// PROFILE=VALUE with a known profile.
bool split_profile(const std::string& value, std::string& profile, std::string& rest) {
  size_t eq = value.find('=');
  if (eq == std::string::npos) return false;
  profile = value.substr(0, eq);
  rest = value.substr(eq + 1);
  return true;
}

std::string known_profile_list() {
  std::string out;
  for (const auto& p : known_profiles()) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

std::optional<std::filesystem::path> ReplayOptions::subject_of(const std::string& profile) const {
  if (auto it = subject_for.find(profile); it != subject_for.end()) return it->second;
  return subject;
}

ReplayOptionsResult parse_replay_options(const std::vector<std::string>& args) {
  ReplayOptionsResult result;
  ReplayOptions& o = result.options;
  std::string& error = result.error;
  bool options_done = false;
  for (size_t i = 0; i < args.size() && error.empty(); i++) {
    const std::string& arg = args[i];
    std::string value;
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      o.cases.emplace_back(arg);
    } else if (arg == "--") {
      options_done = true;
    } else if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (arg == "--keep") {
      o.keep = true;
    } else if (arg == "--recorded") {
      o.recorded = true;
    } else if (arg == "--parity-only") {
      o.parity_only = true;
    } else if (take_value(args, i, "--subject", value, error)) {
      if (!error.empty()) break;
      std::string profile, path;
      if (split_profile(value, profile, path) && is_known_profile(profile)) {
        if (path.empty()) error = "--subject " + value + ": empty path";
        o.subject_for[profile] = path;
      } else if (value.empty()) {
        error = "--subject: empty path";
      } else {
        o.subject = value;
      }
    } else if (take_value(args, i, "--qemu", value, error)) {
      if (!error.empty()) break;
      std::string profile, dir;
      if (!split_profile(value, profile, dir) || dir.empty()) {
        error = "--qemu " + value + ": expected PROFILE=DIR";
      } else if (!is_known_profile(profile)) {
        error =
            "--qemu " + value + ": unknown profile \"" + profile + "\" (known: " + known_profile_list() + ")";
      } else {
        o.qemu_dir[profile] = dir;
      }
    } else if (take_value(args, i, "--profile", value, error)) {
      if (!error.empty()) break;
      if (!is_known_profile(value)) {
        error = "--profile " + value + ": unknown profile (known: " + known_profile_list() + ")";
      } else if (std::find(o.profiles.begin(), o.profiles.end(), value) == o.profiles.end()) {
        o.profiles.push_back(value);
      }
    } else if (take_value(args, i, "--timeout", value, error)) {
      if (!error.empty()) break;
      char* end = nullptr;
      double seconds = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !std::isfinite(seconds) || seconds <= 0 || seconds > 86400) {
        error = "--timeout " + value + ": expected a number of seconds (0 < s <= 86400)";
      } else {
        o.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000)));
      }
    } else {
      error = "unknown option " + arg;
    }
  }
  if (!error.empty() || o.help) return result;
  if (o.cases.empty()) error = "no case files given";
  return result;
}

std::vector<std::filesystem::path> expand_case_paths(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::filesystem::path> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(p)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") found.push_back(entry.path());
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

}  // namespace instar::diff
