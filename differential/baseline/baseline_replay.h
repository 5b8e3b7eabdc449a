// baseline_replay.h: replay a case against instar alone, from a recorded baseline of one profile.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "differential/baseline/baseline_record.h"
#include "differential/runner/report.h"

namespace instar::diff {

// Builds the directory from the record's fixture, runs each recorded command line with the
// subject rendering `instar_profile`, and compares exit status, stdout and stderr with the record
// (placeholder substituted by this run's directory; then the standard normalisation, which only
// masks allocation figures). A recorded non-zero exit is compared as rejection parity; a case
// with "divergence" must still differ. Fails when the record no longer matches the case.
CaseReport replay_baseline(const Case& c, const BaselineRecord& record, const std::string& instar_profile,
                           const std::filesystem::path& subject, std::chrono::milliseconds timeout);

}  // namespace instar::diff
