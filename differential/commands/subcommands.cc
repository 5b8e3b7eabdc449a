// subcommands.cc: the table of instar-diff subcommands; a new subcommand adds one entry here.
#include "differential/commands/baseline_commands.h"
#include "differential/commands/campaign_commands.h"
#include "differential/commands/replay_command.h"
#include "differential/commands/subcommand.h"

namespace instar::diff {

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = {
      {"replay", "replay case files against the reference qemu-img and a subject", kReplayHelp, run_replay},
      {"run", "run a campaign of random cases against a reference and a subject", kRunHelp, run_run},
      {"minimise", "shrink a divergence report's case, keeping its signature", kMinimiseHelp, run_minimise},
      {"triage", "group divergence reports by signature (text, JSON or HTML)", kTriageHelp, run_triage},
      {"promote", "turn a divergence report into a regression case with recorded expectations", kPromoteHelp,
       run_promote},
      {"record", "record every case of a family with each qemu-img version into cross-version baselines",
       kRecordHelp, run_record},
      {"replay-baseline", "replay a family against a subject from a recorded baseline profile (no qemu-img)",
       kReplayBaselineHelp, run_replay_baseline},
      {"check-baselines", "the tripwire: fail when a case family and its recorded baselines disagree",
       kCheckBaselinesHelp, run_check_baselines},
  };
  return table;
}

}  // namespace instar::diff
