// promote.h: turn a divergence report into a regression case that carries the reference's recorded behaviour.
#pragma once

#include <filesystem>
#include <string>

#include "differential/campaign/divergence_report.h"
#include "differential/campaign/probe.h"

namespace instar::diff {

// Re-runs the report's minimal case (or its case) with the reference, records a fixture of the
// directory after setup and each operation's exit status, stdout and stderr for the profile.
// Throws std::runtime_error when setup fails or the fixture is too large.
Case promote_report(const DivergenceReport& report, const ProbeConfig& config, const std::string& name);

}  // namespace instar::diff
