// replay_command.h: `instar-diff replay`, which replays case files and prints PASS/FAIL/SKIP per operation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace instar::diff {

extern const std::string_view kReplayHelp;
int run_replay(const std::vector<std::string>& args);

}  // namespace instar::diff
