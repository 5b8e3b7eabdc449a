// replay.h: replay one case for one profile against the reference qemu-img and the subject.
#pragma once

#include <chrono>
#include <filesystem>

#include "differential/case/case.h"
#include "differential/runner/profile_tools.h"
#include "differential/runner/report.h"

namespace instar::diff {

struct ReplayConfig {
  ProfileTools tools;                  // already checked with check_profile_tools
  std::filesystem::path subject;       // run through a symlink named qemu-img
  std::chrono::milliseconds timeout{60'000};  // per command
  bool keep = false;                   // leave the private directory behind
  std::filesystem::path temp_root;     // empty: $TMPDIR or /tmp
};

// The subject's environment carries INSTAR_QEMU_VERSION=<profile> so it renders that profile.
inline constexpr const char* kProfileVariable = "INSTAR_QEMU_VERSION";

// Setup runs once in <scratch>/work, which is then moved to <scratch>/snapshot.
// Before every run of an operation (reference, then subject) <scratch>/work is
// restored from the snapshot, so both see the same bytes and the same
// allocation at the same path, and setup output that changes from run to run
// (snapshot dates) is created only once.
CaseReport replay_case(const Case& c, const ReplayConfig& config);

}  // namespace instar::diff
