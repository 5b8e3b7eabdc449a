// baseline_commands.h: `instar-diff record`, `replay-baseline` and `check-baselines` — cross-version
// baselines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace instar::diff {

extern const std::string_view kRecordHelp, kReplayBaselineHelp, kCheckBaselinesHelp;
int run_record(const std::vector<std::string>& args);
int run_replay_baseline(const std::vector<std::string>& args);
int run_check_baselines(const std::vector<std::string>& args);

}  // namespace instar::diff
