// replay_command.cc: `instar-diff replay`, which replays case files and prints PASS/FAIL/SKIP per operation.
#include "differential/commands/replay_command.h"

#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>

#include "differential/case/case.h"
#include "differential/commands/replay_options.h"
#include "differential/commands/subcommand.h"
#include "differential/runner/profile_tools.h"
#include "differential/runner/recorded_replay.h"
#include "differential/runner/replay.h"

namespace instar::diff {

const std::string_view kReplayHelp =
    R"(usage: instar-diff replay --subject PATH --qemu PROFILE=DIR... [options] CASE.json|DIR...

Replay each case for each profile: run its setup with that profile's qemu-img
and qemu-io, then run every operation with the reference qemu-img and with the
subject, and compare exit status, stdout and stderr byte for byte.

  --subject PATH          the program under test (normally instar); it is run
                          through a symlink named qemu-img with
                          INSTAR_QEMU_VERSION=<profile> in its environment
  --subject PROFILE=PATH  a subject for one profile only (overrides --subject)
  --qemu PROFILE=DIR      DIR/qemu-img and DIR/qemu-io are that profile's reference
  --profile PROFILE       replay only this profile (repeatable; default: all)
  --timeout SECONDS       limit per command, default 60; the process group is killed
  --keep                  keep each case's private directory and print its path
  --recorded              no reference: build each case from its "fixture" and
                          compare the subject with the recorded "expect" of each
                          operation (after normalisation); cases without them skip
  --parity-only           expect identical results even from known-divergence cases
                          (used when the subject is a qemu-img, to check the setups)
  -h, --help              this text

Profiles: 7.2, 10.0. A profile whose tools are missing or report another
version is skipped with the reason. A directory stands for every *.json below it.

Prints one line per (case, profile, operation). Exit status: 0 all passed
(skips allowed), 1 any failure, 2 usage error, 77 everything skipped.
)";

namespace {

int usage_error(const std::string& message) {
  std::fprintf(stderr, "instar-diff replay: %s\nTry 'instar-diff replay --help'.\n", message.c_str());
  return kExitUsage;
}

void print(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

// Loads a case file; a file that does not parse is reported as a failure line.
std::optional<Case> load_or_report(const std::filesystem::path& file) {
  try {
    return load_case(file);
  } catch (const CaseError& e) {
    print(std::string("FAIL ") + e.what() + "\n");
    return std::nullopt;
  }
}

int replay_all_recorded(const ReplayOptions& o, const std::vector<std::string>& profiles) {
  int passed = 0, failed = 0;
  for (const auto& file : expand_case_paths(o.cases)) {
    std::optional<Case> loaded = load_or_report(file);
    if (!loaded) {
      failed++;
      continue;
    }
    const Case& c = *loaded;
    for (const auto& profile : profiles) {
      CaseReport report = replay_recorded(c, profile, *o.subject_of(profile), o.timeout);
      print(format_report(report));
      if (report.verdict == Verdict::fail) failed++;
      if (report.verdict == Verdict::pass) passed++;
    }
  }
  if (failed > 0) return kExitFail;
  return passed > 0 ? kExitPass : kExitSkipped;
}

}  // namespace

int run_replay(const std::vector<std::string>& args) {
  ReplayOptionsResult parsed = parse_replay_options(args);
  if (!parsed.error.empty()) return usage_error(parsed.error);
  const ReplayOptions& o = parsed.options;
  if (o.help) {
    print(std::string(kReplayHelp));
    return kExitPass;
  }
  std::vector<std::string> profiles = o.profiles.empty() ? known_profiles() : o.profiles;

  for (const auto& profile : profiles) {
    if (!o.subject_of(profile)) return usage_error("no --subject for profile " + profile);
  }
  if (o.recorded) return replay_all_recorded(o, profiles);

  // Whether each profile's reference tools are there, asked once.
  std::map<std::string, std::string> skip_reason;
  for (const auto& profile : profiles) {
    auto dir = o.qemu_dir.find(profile);
    if (dir == o.qemu_dir.end()) {
      skip_reason[profile] =
          "no reference tools for profile " + profile + " (--qemu " + profile + "=DIR not given)";
    } else {
      skip_reason[profile] = check_profile_tools(profile_tools_in(profile, dir->second), o.timeout);
    }
  }

  // A subject that cannot run is the caller's mistake, not a failed case; it only
  // matters for a profile that will run.
  for (const auto& profile : profiles) {
    auto subject = o.subject_of(profile);
    if (skip_reason[profile].empty() && access(subject->c_str(), X_OK) != 0) {
      return usage_error("subject " + subject->string() + " is not executable");
    }
  }

  int passed = 0, failed = 0;
  for (const auto& file : expand_case_paths(o.cases)) {
    std::optional<Case> loaded = load_or_report(file);
    if (!loaded) {
      failed++;
      continue;
    }
    const Case& c = *loaded;
    for (const auto& profile : profiles) {
      CaseReport report;
      if (!skip_reason[profile].empty() && c.applies_to(profile)) {
        report.case_name = c.name;
        report.profile = profile;
        report.verdict = Verdict::skip;
        report.message = skip_reason[profile];
      } else {
        ReplayConfig config;
        config.tools = profile_tools_in(profile, o.qemu_dir.count(profile) ? o.qemu_dir.at(profile) : "");
        config.subject = *o.subject_of(profile);
        config.timeout = o.timeout;
        config.keep = o.keep;
        config.parity_only = o.parity_only;
        report = replay_case(c, config);
      }
      print(format_report(report));
      if (report.verdict == Verdict::fail) failed++;
      if (report.verdict == Verdict::pass) passed++;
    }
  }
  if (failed > 0) return kExitFail;
  return passed > 0 ? kExitPass : kExitSkipped;
}

}  // namespace instar::diff
