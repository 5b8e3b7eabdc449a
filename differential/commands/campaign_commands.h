// campaign_commands.h: `instar-diff run`, `minimise`, `triage` and `promote` — the campaign half of
// instar-diff.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace instar::diff {

extern const std::string_view kRunHelp, kMinimiseHelp, kTriageHelp, kPromoteHelp;
int run_run(const std::vector<std::string>& args);
int run_minimise(const std::vector<std::string>& args);
int run_triage(const std::vector<std::string>& args);
int run_promote(const std::vector<std::string>& args);

}  // namespace instar::diff
