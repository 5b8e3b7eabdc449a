// replay.h: replay one case for one profile against the reference qemu-img and the subject.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>

#include "differential/case/case.h"
#include "differential/runner/compare.h"
#include "differential/runner/profile_tools.h"
#include "differential/runner/report.h"

namespace instar::diff {

struct OperationRun;

struct ReplayConfig {
  ProfileTools tools;                         // already checked with check_profile_tools
  std::filesystem::path subject;              // run through a symlink named qemu-img
  std::chrono::milliseconds timeout{60'000};  // per command
  bool keep = false;                          // leave the private directory behind
  bool parity_only = false;                   // treat known divergences as parity cases (self-check)
  std::filesystem::path temp_root;            // empty: $TMPDIR or /tmp
  bool run_reference = true;                  // false: only the subject runs (recorded replay)
  bool use_fixture = false;                   // build the directory from the case's fixture, not its setup
  // Called with the directory as setup left it, before any operation (to record a fixture).
  std::function<void(const std::filesystem::path&)> after_setup;
  // Inspections run with the subject itself (a recorded replay, which has no qemu-img), not tools.qemu_img.
  bool inspect_with_subject = false;
  // Called after each subject run and its inspections, while the files it left are still there.
  std::function<void(size_t operation, const OperationRun& run, const std::filesystem::path& work)>
      after_subject;
};

// Both sides' runs of one operation, unjudged.
struct OperationRun {
  RunCapture reference;  // empty when the reference was not run
  RunCapture subject;
  TreeDigest before;  // the directory just before the subject ran
};

struct CaseRun {
  std::string setup_error;  // non-empty: setup failed (or the runner did), no operation ran
  std::vector<OperationRun> operations;
  std::filesystem::path kept_directory;
};

// Runs setup once, then every operation under the reference and the subject; judges nothing.
CaseRun execute_case(const Case& c, const ReplayConfig& config);

// The subject's environment carries INSTAR_QEMU_VERSION=<profile> so it renders that profile.
inline constexpr const char* kProfileVariable = "INSTAR_QEMU_VERSION";

// Setup runs once in <scratch>/work, which is then moved to <scratch>/snapshot.
// Every run of an operation (reference, then subject) starts from <scratch>/work
// as restored from the snapshot, so both see the same bytes at the same path,
// and setup output that changes from run to run (snapshot dates) is made once.
// A run that changed nothing is not followed by a restore, so the next run
// sees the very same files, allocation included.
CaseReport replay_case(const Case& c, const ReplayConfig& config);

}  // namespace instar::diff
