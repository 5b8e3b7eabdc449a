// baseline_replay.cc: replay a case against instar alone, from a recorded baseline of one profile.
#include "differential/baseline/baseline_replay.h"

#include "differential/baseline/placeholder.h"
#include "differential/compare/divergence.h"
#include "differential/runner/compare.h"
#include "differential/runner/replay.h"

namespace instar::diff {
namespace {

std::string stale_reason(const Case& c, const BaselineRecord& record) {
  if (record.operations.size() != c.operations.size()) return "the case's operations changed";
  for (size_t i = 0; i < c.operations.size(); i++) {
    std::vector<std::string> argv = {"qemu-img"};
    argv.insert(argv.end(), c.operations[i].args.begin(), c.operations[i].args.end());
    if (argv != record.operations[i].argv)
      return "operation " + std::to_string(i + 1) + "'s arguments changed";
  }
  if (steps_json(c.setup) != steps_json(record.setup)) return "the case's setup changed";
  return "";
}

}  // namespace

CaseReport replay_baseline(const Case& c, const BaselineRecord& record, const std::string& instar_profile,
                           const std::filesystem::path& subject, std::chrono::milliseconds timeout) {
  CaseReport report;
  report.case_name = c.name;
  report.profile = instar_profile + " (baseline " + record.version + ")";
  if (std::string why = stale_reason(c, record); !why.empty()) {
    report.verdict = Verdict::fail;
    report.message = "baseline is stale (" + why + "); re-record with instar-diff record";
    return report;
  }
  Case recorded = c;
  recorded.fixture = record.fixture;
  ReplayConfig config;
  config.tools.profile = instar_profile;
  config.subject = subject;
  config.timeout = timeout;
  config.run_reference = false;
  config.use_fixture = true;
  std::string work;
  config.after_setup = [&](const std::filesystem::path& dir) { work = dir.string(); };
  CaseRun run = execute_case(recorded, config);
  if (!run.setup_error.empty()) {
    report.verdict = Verdict::fail;
    report.message = run.setup_error;
    return report;
  }
  std::vector<Field> fields;
  for (Field f : c.compare)
    if (f != Field::files) fields.push_back(f);  // files are not recorded
  for (size_t i = 0; i < run.operations.size(); i++) {
    const Operation& op = c.operations[i];
    const RecordedOperation& e = record.operations[i];
    OperationRun r = run.operations[i];
    r.reference.process.ending = ProcessResult::Ending::exited;
    r.reference.process.code = e.exit_code;
    r.reference.process.out = from_placeholder(e.out, work);
    r.reference.process.err = from_placeholder(e.err, work);
    Judgement j = judge(op, fields, r, Normaliser::standard());
    OperationReport o;
    o.number = i + 1;
    o.args = op.args;
    const char* kind = e.exit_code != 0 ? "rejection parity: " : "";
    if (j.outcome == Outcome::inconclusive) {
      o.problems.push_back(j.why);
    } else if (c.divergence.empty() && e.exit_code != 0 && r.subject.process.code == 0) {
      o.problems.push_back(std::string(kind) + "qemu-img " + record.version + " rejected this (exit " +
                           std::to_string(e.exit_code) + ") but the subject accepted it:\n" + j.diff);
    } else if (c.divergence.empty() && j.outcome == Outcome::diverges) {
      o.problems.push_back(std::string(kind) + "differs from the qemu-img " + record.version + " baseline (" +
                           j.signature + "):\n" + j.diff);
    } else if (!c.divergence.empty() && j.outcome == Outcome::match) {
      o.problems.push_back("known divergence '" + c.divergence + "' no longer differs from the qemu-img " +
                           record.version + " baseline; remove the case's \"divergence\" key");
    }
    if (!op.writes)
      for (std::string& v : read_only_violations(r.before, r.subject.files_after)) o.problems.push_back(v);
    o.verdict = o.problems.empty() ? Verdict::pass : Verdict::fail;
    if (o.verdict == Verdict::fail) report.verdict = Verdict::fail;
    report.operations.push_back(std::move(o));
  }
  return report;
}

}  // namespace instar::diff
