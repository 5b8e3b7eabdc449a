// replay_options.h: the command line of `instar-diff replay`, parsed and checked.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace instar::diff {

struct ReplayOptions {
  std::optional<std::filesystem::path> subject;              // --subject PATH
  std::map<std::string, std::filesystem::path> subject_for;  // --subject PROFILE=PATH
  std::map<std::string, std::filesystem::path> qemu_dir;     // --qemu PROFILE=DIR
  std::vector<std::string> profiles;                         // --profile, in order; empty: all known
  std::chrono::milliseconds timeout{60'000};                 // --timeout SECONDS
  bool keep = false;                                         // --keep
  bool parity_only = false;                                  // --parity-only
  bool recorded = false;                                     // --recorded: subject only, from the fixture
  bool help = false;                                         // --help, -h
  std::vector<std::filesystem::path> cases;                  // files or directories of *.json

  // The subject that replays `profile`, if any was given.
  std::optional<std::filesystem::path> subject_of(const std::string& profile) const;
};

struct ReplayOptionsResult {
  ReplayOptions options;
  std::string error;  // non-empty: a usage error
};

ReplayOptionsResult parse_replay_options(const std::vector<std::string>& args);

// Case files named on the command line, directories expanded (recursively, sorted) to their *.json files.
std::vector<std::filesystem::path> expand_case_paths(const std::vector<std::filesystem::path>& paths);

}  // namespace instar::diff
