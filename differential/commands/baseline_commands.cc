// baseline_commands.cc: `instar-diff record`, `replay-baseline` and `check-baselines` — cross-version
// baselines.
#include "differential/commands/baseline_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "differential/baseline/baseline_replay.h"
#include "differential/baseline/profile_dedup.h"
#include "differential/baseline/recorder.h"
#include "differential/baseline/tripwire.h"
#include "differential/baseline/version_map.h"
#include "differential/commands/subcommand.h"
#include "differential/runner/profile_tools.h"

namespace instar::diff {

const std::string_view kRecordHelp =
    R"(usage: instar-diff record --family NAME --qemu VERSION=DIR... [options] [CASE...]

For each case of corpora/cases/NAME (or the named ones) and each qemu-img
version: run the setup once with DIR/qemu-img and DIR/qemu-io, capture the
directory it left as a fixture, run every operation and its inspections, and
write corpora/baselines/NAME/VERSION/<case>.meta.json (exit status, command
lines, tool version, setup, fixture, inspection answers, and for a case that
compares files the size, data extents and SHA-256 of each file an operation
wrote) and <case>.stdout / .stderr (.N per operation when there are several;
.zst when large). Paths of the private directory are
stored as @WORKDIR@. Then folds identical versions into profiles/ and writes
profiles/version-map.json. A version whose tools are missing is skipped, and
so is a case listed in NAME's not-recorded.txt ("case: why").

  --family NAME       case family (a directory of corpora/cases)
  --qemu VERSION=DIR  a qemu-img version to record (repeatable)
  --cases DIR         default corpora/cases/NAME of the source tree
  --baselines DIR     default corpora/baselines/NAME of the source tree
  --timeout SECONDS   limit per command, default 60
)";

const std::string_view kReplayBaselineHelp =
    R"(usage: instar-diff replay-baseline --family NAME --subject PATH (--profile P | --version X) [options] [CASE...]

Replay cases against the subject alone, from a profile's recorded baseline: no
qemu-img is run. The directory is rebuilt from the recorded fixture, each
recorded command line runs with INSTAR_QEMU_VERSION set to what the profile
renders as, and exit status, stdout and stderr are compared with the record
(@WORKDIR@ substituted; allocation figures masked). The files each operation
wrote must match the recorded sizes, layouts and digests, and its inspections,
rerun with the subject, the recorded answers. A recorded non-zero exit is
rejection parity; a case with "divergence" must still differ.

  --profile NAME      a profile of profiles/version-map.json (profile-7.2)
  --version X.Y       the profile recorded for that qemu-img version; one not
                      recorded falls back to the newest older one, with a warning
  --cases DIR  --baselines DIR  --timeout SECONDS   as for record
)";

const std::string_view kCheckBaselinesHelp =
    R"(usage: instar-diff check-baselines [--cases DIR --baselines DIR] FAMILY...

The schema tripwire: fails (exit 1) when a case family and its baselines
disagree — a case with no baseline, a baseline with no case, a baseline
recorded from another setup or other arguments, stray output files, or a
version-map.json that does not match the recorded directories.
)";

namespace {

struct Options {
  std::string family, subject, profile, version, cases, baselines;
  std::vector<std::pair<std::string, std::string>> qemu;
  std::vector<std::string> positional;
  std::chrono::milliseconds timeout{60'000};
  bool help = false;
};

std::filesystem::path source_root() {
  return (std::filesystem::path(INSTAR_DIFF_DATA_DIR) / "..").lexically_normal();
}

// "" or what is wrong with the command line.
std::string parse(const std::vector<std::string>& args, Options& o) {
  std::map<std::string, std::string*> values = {{"--family", &o.family},   {"--subject", &o.subject},
                                                {"--profile", &o.profile}, {"--version", &o.version},
                                                {"--cases", &o.cases},     {"--baselines", &o.baselines}};
  for (size_t i = 0; i < args.size(); i++) {
    std::string a = args[i], value;
    if (a == "-h" || a == "--help") {
      o.help = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      o.positional.push_back(a);
      continue;
    }
    if (auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return a + " needs a value";
    }
    if (a == "--qemu") {
      auto eq = value.find('=');
      if (eq == std::string::npos) return "--qemu expects VERSION=DIR";
      o.qemu.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (a == "--timeout") {
      o.timeout = std::chrono::milliseconds(std::stoul(value) * 1000);
    } else if (values.count(a)) {
      *values[a] = value;
    } else {
      return "unknown option " + a;
    }
  }
  return "";
}

int usage(const char* command, const std::string& message) {
  std::fprintf(stderr, "instar-diff %s: %s\nTry 'instar-diff %s --help'.\n", command, message.c_str(),
               command);
  return kExitUsage;
}

// The case files to use: the named ones, or every *.json of the family, sorted.
std::vector<std::filesystem::path> case_files(const std::filesystem::path& dir,
                                              const std::vector<std::string>& names) {
  std::vector<std::filesystem::path> files;
  if (!names.empty()) {
    for (const std::string& n : names) files.push_back(dir / (n + ".json"));
    return files;
  }
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// The cases <baselines>/not-recorded.txt lists ("case: why" per line) with their reasons.
std::map<std::string, std::string> not_recorded(const std::filesystem::path& baselines) {
  std::map<std::string, std::string> reasons;
  std::ifstream in(baselines / "not-recorded.txt");
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(": ");
    if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
    reasons[line.substr(0, colon)] = line.substr(colon + 2);
  }
  return reasons;
}

void fill_defaults(Options& o) {
  if (o.cases.empty()) o.cases = (source_root() / "corpora" / "cases" / o.family).string();
  if (o.baselines.empty()) o.baselines = (source_root() / "corpora" / "baselines" / o.family).string();
}

}  // namespace

int run_record(const std::vector<std::string>& args) {
  Options o;
  if (std::string e = parse(args, o); !e.empty()) return usage("record", e);
  if (o.help) return std::fputs(std::string(kRecordHelp).c_str(), stdout), kExitPass;
  if (o.family.empty() || o.qemu.empty())
    return usage("record", "--family and at least one --qemu are required");
  fill_defaults(o);
  int recorded = 0, failed = 0;
  std::map<std::string, std::string> exempt = not_recorded(o.baselines);
  for (const auto& [version, dir] : o.qemu) {
    ProfileTools tools = profile_tools_in(version, dir);
    if (std::string why = check_profile_tools(tools, o.timeout); !why.empty()) {
      std::fprintf(stderr, "SKIP version %s: %s\n", version.c_str(), why.c_str());
      continue;
    }
    std::string tool_version = qemu_img_version_line(tools, o.timeout);
    for (const auto& file : case_files(o.cases, o.positional)) {
      try {
        Case c = load_case(file);
        if (!c.applies_to(version)) continue;
        if (auto it = exempt.find(c.name); it != exempt.end()) {
          std::printf("NOT RECORDED %s [%s]: not-recorded.txt: %s\n", c.name.c_str(), version.c_str(),
                      it->second.c_str());
          continue;
        }
        save_record(record_case(c, tools, tool_version, o.timeout),
                    std::filesystem::path(o.baselines) / version);
        std::printf("RECORDED %s [%s]\n", c.name.c_str(), version.c_str());
        recorded++;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "FAIL %s [%s]: %s\n", file.stem().c_str(), version.c_str(), e.what());
        failed++;
      }
    }
  }
  if (recorded == 0 && failed == 0) return kExitSkipped;
  try {
    VersionMap map = build_profiles(o.baselines);
    for (const auto& [name, p] : map.profiles) {
      std::string versions;
      for (const auto& v : p.versions) versions += (versions.empty() ? "" : ", ") + v;
      std::printf("PROFILE %s: %s\n", name.c_str(), versions.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "instar-diff record: profiles: %s\n", e.what());
    return kExitFail;
  }
  return failed ? kExitFail : kExitPass;
}

int run_replay_baseline(const std::vector<std::string>& args) {
  Options o;
  if (std::string e = parse(args, o); !e.empty()) return usage("replay-baseline", e);
  if (o.help) return std::fputs(std::string(kReplayBaselineHelp).c_str(), stdout), kExitPass;
  if (o.family.empty() || o.subject.empty() || o.profile.empty() == o.version.empty())
    return usage("replay-baseline", "--family, --subject and one of --profile or --version are required");
  fill_defaults(o);
  std::filesystem::path profiles = std::filesystem::path(o.baselines) / "profiles";
  VersionMap map;
  try {
    map = load_version_map(profiles / "version-map.json");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "instar-diff replay-baseline: %s\n", e.what());
    return kExitFail;
  }
  std::string name = o.profile;
  if (!o.version.empty()) {
    std::string warning;
    name = resolve_profile(map, o.version, warning);
    if (!warning.empty()) std::fprintf(stderr, "instar-diff replay-baseline: warning: %s\n", warning.c_str());
  }
  auto it = map.profiles.find(name);
  if (it == map.profiles.end())
    return usage("replay-baseline", "no profile " + name + " in version-map.json");
  std::string instar_profile = instar_profile_for(it->second);
  int passed = 0, failed = 0;
  std::map<std::string, std::string> exempt = not_recorded(o.baselines);
  for (const auto& file : case_files(o.cases, o.positional)) {
    CaseReport report;
    if (auto it = exempt.find(file.stem().string()); it != exempt.end()) {
      report.case_name = it->first;
      report.profile = name;
      report.verdict = Verdict::skip;
      report.message = "not recorded (not-recorded.txt: " + it->second + ")";
      std::fputs(format_report(report).c_str(), stdout);
      continue;
    }
    try {
      Case c = load_case(file);
      BaselineRecord record = load_record(profiles / name / (c.name + ".meta.json"));
      report = replay_baseline(c, record, instar_profile, o.subject, o.timeout);
    } catch (const std::exception& e) {
      report.case_name = file.stem().string();
      report.profile = name;
      report.verdict = Verdict::fail;
      report.message = e.what();
    }
    std::fputs(format_report(report).c_str(), stdout);
    (report.verdict == Verdict::fail ? failed : passed)++;
  }
  return failed ? kExitFail : passed ? kExitPass : kExitSkipped;
}

int run_check_baselines(const std::vector<std::string>& args) {
  Options o;
  if (std::string e = parse(args, o); !e.empty()) return usage("check-baselines", e);
  if (o.help) return std::fputs(std::string(kCheckBaselinesHelp).c_str(), stdout), kExitPass;
  if (o.positional.empty()) return usage("check-baselines", "expected at least one family");
  size_t problems = 0;
  for (const std::string& family : o.positional) {
    Options f = o;
    f.family = family;
    fill_defaults(f);
    for (const std::string& p : check_family(f.cases, f.baselines)) {
      std::printf("%s: %s\n", family.c_str(), p.c_str());
      problems++;
    }
  }
  if (problems) return kExitFail;
  std::printf("cases and baselines agree\n");
  return kExitPass;
}

}  // namespace instar::diff
