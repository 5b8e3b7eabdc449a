// probe.h: run one case against a reference and a subject and judge it — what the campaign, minimiser and
// promotion share.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "differential/compare/divergence.h"
#include "differential/runner/profile_tools.h"

namespace instar::diff {

struct ProbeConfig {
  ProfileTools tools;  // tools.qemu_img is the reference; tools.qemu_io and qemu-img in setup come from it
  std::filesystem::path subject;
  std::chrono::milliseconds timeout{30'000};
};

struct Probe {
  CaseRun run;
  Judgement judgement;
  size_t operation = 0;  // the divergent operation
};

Probe probe_case(const Case& c, const ProbeConfig& config);

// "7.2" from `qemu-img version 7.2.22 (Debian ...)`; "" when it is not a known profile.
std::string detect_profile(const std::filesystem::path& qemu_img, std::chrono::milliseconds timeout);

// The reference's tools: qemu-img itself and the qemu-io beside it.
ProfileTools reference_tools(const std::filesystem::path& qemu_img, const std::string& profile);

}  // namespace instar::diff
