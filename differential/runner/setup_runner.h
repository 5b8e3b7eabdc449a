// setup_runner.h: carry out a case's setup steps in its private directory with a profile's tools.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "differential/case/case.h"
#include "differential/runner/profile_tools.h"

namespace instar::diff {

struct SetupContext {
  ProfileTools tools;
  std::filesystem::path directory;                       // cwd of every command; root of every file name
  std::vector<std::pair<std::string, std::string>> env;  // on top of the runner's environment
  std::chrono::milliseconds timeout{60'000};
};

// "" on success; otherwise which step failed and why (a step with may_fail never fails the setup).
std::string run_setup(const std::vector<SetupStep>& steps, const SetupContext& context);

}  // namespace instar::diff
