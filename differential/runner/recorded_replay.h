// recorded_replay.h: replay a case against the subject alone, from its fixture and recorded expectations.
#pragma once

#include <chrono>
#include <filesystem>

#include "differential/case/case.h"
#include "differential/runner/report.h"

namespace instar::diff {

// Skips when the case has no fixture or no expectation for `profile`. Outputs are
// compared after normalisation; a case with "divergence" must still differ.
CaseReport replay_recorded(const Case& c, const std::string& profile, const std::filesystem::path& subject,
                           std::chrono::milliseconds timeout);

}  // namespace instar::diff
