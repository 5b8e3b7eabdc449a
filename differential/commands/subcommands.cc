// subcommands.cc: the table of instar-diff subcommands; a new subcommand adds one entry here.
#include "differential/commands/replay_command.h"
#include "differential/commands/subcommand.h"

namespace instar::diff {

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = {
      {"replay", "replay case files against the reference qemu-img and a subject", kReplayHelp, run_replay},
  };
  return table;
}

}  // namespace instar::diff
