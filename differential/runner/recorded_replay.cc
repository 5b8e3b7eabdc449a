// recorded_replay.cc: replay a case against the subject alone, from its fixture and recorded expectations.
#include "differential/runner/recorded_replay.h"

#include "differential/compare/divergence.h"
#include "differential/runner/replay.h"

namespace instar::diff {

CaseReport replay_recorded(const Case& c, const std::string& profile, const std::filesystem::path& subject,
                           std::chrono::milliseconds timeout) {
  CaseReport report;
  report.case_name = c.name;
  report.profile = profile;
  bool recorded = !c.fixture.empty() && c.applies_to(profile);
  for (const auto& op : c.operations) recorded = recorded && op.expectation_for(profile) != nullptr;
  if (!recorded) {
    report.verdict = Verdict::skip;
    report.message = "no recorded fixture and expectation for profile " + profile;
    return report;
  }
  ReplayConfig config;
  config.tools.profile = profile;
  config.subject = subject;
  config.timeout = timeout;
  config.run_reference = false;
  config.use_fixture = true;
  CaseRun run = execute_case(c, config);
  if (!run.setup_error.empty()) {
    report.verdict = Verdict::fail;
    report.message = run.setup_error;
    return report;
  }
  for (size_t i = 0; i < run.operations.size(); i++) {
    const Operation& op = c.operations[i];
    const Expectation* e = op.expectation_for(profile);
    OperationRun r = run.operations[i];
    r.reference.process.ending = ProcessResult::Ending::exited;
    r.reference.process.code = e->exit_code;
    r.reference.process.out = e->out;
    r.reference.process.err = e->err;
    std::vector<Field> fields;
    for (Field f : c.compare)
      if (f != Field::files) fields.push_back(f);  // files are not recorded
    Judgement j = judge(op, fields, r, Normaliser::standard());
    OperationReport o;
    o.number = i + 1;
    o.args = op.args;
    if (j.outcome == Outcome::inconclusive) {
      o.problems.push_back(j.why);
    } else if (c.divergence.empty() && j.outcome == Outcome::diverges) {
      o.problems.push_back("differs from the recorded reference (" + j.signature + "):\n" + j.diff);
    } else if (!c.divergence.empty() && j.outcome == Outcome::match) {
      o.problems.push_back("known divergence '" + c.divergence +
                           "' no longer diverges from the recorded reference; remove the entry");
    }
    o.verdict = o.problems.empty() ? Verdict::pass : Verdict::fail;
    if (o.verdict == Verdict::fail) report.verdict = Verdict::fail;
    report.operations.push_back(std::move(o));
  }
  return report;
}

}  // namespace instar::diff
