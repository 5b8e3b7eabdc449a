// report_commands.cc: `instar-diff minimise`, `triage` and `promote`, which work on divergence reports.
#include <cstdio>
#include <fstream>

#include "differential/commands/campaign_commands.h"
#include "differential/commands/flag_parser.h"
#include "differential/commands/probe_flags.h"
#include "differential/commands/subcommand.h"
#include "differential/minimise/case_minimiser.h"
#include "differential/promote/promote.h"
#include "differential/triage/triage.h"

namespace instar::diff {

const std::string_view kMinimiseHelp =
    R"(usage: instar-diff minimise [options] REPORT.json

Shrink the report's case by delta debugging over its operations, setup steps,
each operation's options and image sizes, keeping the report's signature.
Writes the minimal case into the report ("minimal_case") and prints it, with
the number of runs it took.

  --reference PATH  --subject PATH  --profile X.Y  --timeout SEC
                    as for run (default: the ones the report names)
  --budget N        candidate runs at most (default 500)
  --out FILE        also write the minimal case to FILE
)";

const std::string_view kTriageHelp =
    R"(usage: instar-diff triage [--format text|json|html] [--output FILE] DIR

Group the divergence reports below DIR by signature: count, first and last
seen, whether it is a known divergence, the minimal case and the command that
replays it. text (default) and json go to stdout; html is a static page.
)";

const std::string_view kPromoteHelp =
    R"(usage: instar-diff promote [options] REPORT.json

Re-run the report's minimal case (or its case) with the reference, record the
directory after setup as a "fixture" and each operation's exit status, stdout
and stderr as its "expect", and write corpora/regressions/diff/NAME.json. ctest
replays it against instar from the recording (no qemu-img needed) and live
where qemu-img is installed. A report of a known divergence keeps its id in
"divergence", so the regression asserts that it still differs.

  --name NAME       case name (default diff-<signature id>)
  --dir DIR         default corpora/regressions/diff of the source tree
  --reference PATH  --subject PATH  --profile X.Y  --timeout SEC  as for run
)";

namespace {

int usage(const char* command, const std::string& message) {
  std::fprintf(stderr, "instar-diff %s: %s\nTry 'instar-diff %s --help'.\n", command, message.c_str());
  return kExitUsage;
}

}  // namespace

int run_minimise(const std::vector<std::string>& args) {
  Flags f = parse_flags(args, {"--reference", "--subject", "--profile", "--timeout", "--budget", "--out"},
                        {"--help"});
  if (f.has("--help")) {
    std::fputs(std::string(kMinimiseHelp).c_str(), stdout);
    return kExitPass;
  }
  if (!f.error.empty()) return usage("minimise", f.error);
  if (f.positional.size() != 1) return usage("minimise", "expected one report file");
  DivergenceReport report;
  try {
    report = load_report(f.positional[0]);
  } catch (const std::exception& e) {
    return usage("minimise", e.what());
  }
  ProbeConfig config;
  if (std::string e = probe_config_from(f, config, report.reference, report.subject); !e.empty())
    return usage("minimise", e);
  std::string error;
  size_t budget = flag_number(f, "--budget", 500, error);
  if (!error.empty()) return usage("minimise", error);
  auto start = std::chrono::steady_clock::now();
  Probe again = probe_case(report.case_, config);
  if (again.judgement.signature != report.signature) {
    std::fprintf(
        stderr, "instar-diff minimise: the case no longer shows the signature (now: %s)\n",
        again.judgement.outcome == Outcome::diverges ? again.judgement.signature.c_str() : "no divergence");
    return kExitFail;
  }
  auto result = minimise_case(report.case_, [&](const Case& candidate) {
    if (budget == 0) return false;
    budget--;
    return probe_case(candidate, config).judgement.signature == report.signature;
  });
  result.minimal.name = "min-" + report.signature_id;
  result.minimal.description = "minimal case for " + report.signature;
  report.minimal = result.minimal;
  report.minimise_runs = result.runs + 1;
  report.minimise_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  save_report(report, f.positional[0]);
  if (f.values.count("--out")) std::ofstream(f.values.at("--out")) << serialise_case(result.minimal);
  std::fputs(serialise_case(result.minimal).c_str(), stdout);
  std::fprintf(stderr, "minimised in %zu runs, %.1f s\n", report.minimise_runs, report.minimise_seconds);
  return kExitPass;
}

int run_triage(const std::vector<std::string>& args) {
  Flags f = parse_flags(args, {"--format", "--output"}, {"--help"});
  if (f.has("--help")) {
    std::fputs(std::string(kTriageHelp).c_str(), stdout);
    return kExitPass;
  }
  if (!f.error.empty()) return usage("triage", f.error);
  if (f.positional.size() != 1) return usage("triage", "expected one directory of reports");
  std::string format = f.get("--format", "text");
  if (format != "text" && format != "json" && format != "html")
    return usage("triage", "unknown format " + format);
  auto groups = triage_directory(f.positional[0]);
  std::string text = format == "json"   ? triage_json(groups)
                     : format == "html" ? triage_html(groups)
                                        : triage_text(groups);
  if (f.values.count("--output")) {
    std::ofstream(f.values.at("--output")) << text;
  } else {
    std::fputs(text.c_str(), stdout);
  }
  return kExitPass;
}

int run_promote(const std::vector<std::string>& args) {
  Flags f = parse_flags(args, {"--reference", "--subject", "--profile", "--timeout", "--name", "--dir"},
                        {"--help"});
  if (f.has("--help")) {
    std::fputs(std::string(kPromoteHelp).c_str(), stdout);
    return kExitPass;
  }
  if (!f.error.empty()) return usage("promote", f.error);
  if (f.positional.size() != 1) return usage("promote", "expected one report file");
  DivergenceReport report;
  try {
    report = load_report(f.positional[0]);
  } catch (const std::exception& e) {
    return usage("promote", e.what());
  }
  ProbeConfig config;
  if (std::string e = probe_config_from(f, config, report.reference, report.subject); !e.empty())
    return usage("promote", e);
  std::string name = f.get("--name", "diff-" + report.signature_id);
  std::filesystem::path dir =
      f.get("--dir", (std::filesystem::path(INSTAR_DIFF_DATA_DIR) / ".." / "corpora" / "regressions" / "diff")
                         .lexically_normal()
                         .string());
  try {
    Case c = promote_report(report, config, name);
    std::filesystem::create_directories(dir);
    std::filesystem::path file = dir / (name + ".json");
    std::ofstream(file) << serialise_case(c);
    std::printf("%s\n", file.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "instar-diff promote: %s\n", e.what());
    return kExitFail;
  }
  return kExitPass;
}

}  // namespace instar::diff
