// run_command.cc: `instar-diff run` — a campaign of random cases against a reference and a subject.
#include <cstdio>

#include "differential/campaign/campaign.h"
#include "differential/commands/campaign_commands.h"
#include "differential/commands/flag_parser.h"
#include "differential/commands/probe_flags.h"
#include "differential/commands/subcommand.h"
#include "differential/triage/triage.h"

namespace instar::diff {

const std::string_view kRunHelp =
    R"(usage: instar-diff run [options]

Generate random cases from (seed, iteration) — images over raw and qcow2 with
random creation options, backing chains and data, then 1-4 operations from the
operation registry with valid and invalid options — and run each operation
with the reference and the subject on identical private copies. Divergences are
normalised (differential/normalise/rules.json), given a signature, matched
against differential/known-divergences.json, written to OUT/reports/ as one
JSON file each, and the first of each new signature is minimised
(OUT/minimal/). Prints the triage summary at the end.

  --reference PATH     reference qemu-img (default /usr/bin/qemu-img); its
                       directory's qemu-io runs the setup
  --subject PATH       program under test (default: instar beside instar-diff);
                       may be another qemu-img, to find version drift
  --profile X.Y        profile for the subject (default: the reference's version)
  --seed N             default 1
  --iterations N       stop after N cases (default: no limit)
  --time-budget SEC    stop starting cases after SEC seconds (default 60)
  --jobs N             parallel workers (default 1)
  --timeout SEC        per operation (default 30); a timeout is inconclusive
  --first-iteration N  start at iteration N (default 0)
  --out DIR            reports directory (default instar-diff-out)
  --no-minimise        do not minimise new signatures
  -h, --help           this text

Exit status: 0 no new divergence, 1 new divergences found, 2 usage error.
)";

int run_run(const std::vector<std::string>& args) {
  Flags f = parse_flags(args,
                        {"--reference", "--subject", "--profile", "--seed", "--iterations", "--time-budget",
                         "--jobs", "--timeout", "--first-iteration", "--out"},
                        {"--help", "--no-minimise"});
  if (f.has("--help")) {
    std::fputs(std::string(kRunHelp).c_str(), stdout);
    return kExitPass;
  }
  CampaignConfig config;
  std::string error = f.error;
  if (error.empty() && !f.positional.empty()) error = "unexpected argument " + f.positional[0];
  config.seed = flag_number(f, "--seed", 1, error);
  config.iterations = flag_number(f, "--iterations", UINT64_MAX, error);
  config.time_budget = std::chrono::seconds(flag_number(f, "--time-budget", 60, error));
  config.jobs = static_cast<unsigned>(flag_number(f, "--jobs", 1, error));
  config.first_iteration = flag_number(f, "--first-iteration", 0, error);
  config.out = f.get("--out", "instar-diff-out");
  config.minimise = !f.has("--no-minimise");
  if (error.empty()) error = probe_config_from(f, config.probe);
  if (!error.empty()) {
    std::fprintf(stderr, "instar-diff run: %s\nTry 'instar-diff run --help'.\n", error.c_str());
    return kExitUsage;
  }
  std::fprintf(stderr, "instar-diff run: seed %llu, reference %s (profile %s), subject %s, %u jobs\n",
               static_cast<unsigned long long>(config.seed), config.probe.tools.qemu_img.c_str(),
               config.probe.tools.profile.c_str(), config.probe.subject.c_str(), config.jobs);
  CampaignStats stats = run_campaign(config);
  std::printf(
      "iterations %llu, operations %llu in %.1f s (%.2f ops/s), inconclusive %llu, divergent cases %llu\n",
      static_cast<unsigned long long>(stats.iterations), static_cast<unsigned long long>(stats.operations),
      stats.seconds, stats.seconds > 0 ? stats.operations / stats.seconds : 0.0,
      static_cast<unsigned long long>(stats.inconclusive),
      static_cast<unsigned long long>(stats.divergent_cases));
  std::fputs(triage_text(triage_directory(config.out / "reports")).c_str(), stdout);
  return stats.new_signatures.empty() ? kExitPass : kExitFail;
}

}  // namespace instar::diff
