// baseline_replay.cc: replay a case against instar alone, from a recorded baseline of one profile.
#include "differential/baseline/baseline_replay.h"

#include "differential/baseline/placeholder.h"
#include "differential/baseline/written_files.h"
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
    std::vector<std::vector<std::string>> inspected;
    for (const RecordedInspection& in : record.operations[i].inspections) inspected.push_back(in.args);
    if (record.operations[i].inspections_recorded && inspected != c.operations[i].inspect)
      return "operation " + std::to_string(i + 1) + "'s inspections changed";
  }
  if (steps_json(c.setup) != steps_json(record.setup)) return "the case's setup changed";
  return "";
}

// Why an argument of a writing operation could name a file outside the work directory, or "". Every piece
// between '=' and ',' counts (dd's of=, -o key=value lists), so an absolute or ".." path cannot slip through.
std::string escaping_argument(const Case& c) {
  for (size_t i = 0; i < c.operations.size(); i++) {
    if (!c.operations[i].writes) continue;
    for (const std::string& arg : c.operations[i].args) {
      size_t start = 0;
      while (start <= arg.size()) {
        size_t end = arg.find_first_of("=,", start);
        if (end == std::string::npos) end = arg.size();
        std::string piece = arg.substr(start, end - start);
        bool dotdot = piece == ".." || piece.starts_with("../") || piece.ends_with("/..") ||
                      piece.find("/../") != std::string::npos;
        if (piece.starts_with("/") || dotdot)
          return "operation " + std::to_string(i + 1) + " writes and its argument '" + arg +
                 "' names a path outside the work directory; a recorded replay only writes inside it";
        start = end + 1;
      }
    }
  }
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
  if (std::string why = escaping_argument(c); !why.empty()) {
    report.verdict = Verdict::fail;
    report.message = why;
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
  // No qemu-img: the subject runs the inspections (raw map and compare, parity-tested in their own families)
  // and the files it wrote are checked against the reference's recorded digests and layout.
  config.inspect_with_subject = true;
  std::vector<std::vector<std::string>> file_problems(c.operations.size());
  config.after_subject = [&](size_t i, const OperationRun& run, const std::filesystem::path& dir) {
    if (const auto& files = record.operations[i].files)
      file_problems[i] = compare_written_files(*files, dir, run.before, run.subject.files_after);
  };
  CaseRun run = execute_case(recorded, config);
  if (!run.setup_error.empty()) {
    report.verdict = Verdict::fail;
    report.message = run.setup_error;
    return report;
  }
  std::vector<Field> fields;
  for (Field f : c.compare)
    if (f != Field::files) fields.push_back(f);  // the files are judged by their recorded digests instead
  for (size_t i = 0; i < run.operations.size(); i++) {
    const Operation& op = c.operations[i];
    const RecordedOperation& e = record.operations[i];
    OperationRun r = run.operations[i];
    r.reference.process.ending = ProcessResult::Ending::exited;
    r.reference.process.code = e.exit_code;
    r.reference.process.out = from_placeholder(e.out, work);
    r.reference.process.err = from_placeholder(e.err, work);
    r.reference.inspections.clear();
    for (const RecordedInspection& in : e.inspections) {
      Inspection recorded_inspection{in.args, {}};
      recorded_inspection.process.ending = ProcessResult::Ending::exited;
      recorded_inspection.process.code = in.exit_code;
      recorded_inspection.process.out = from_placeholder(in.out, work);
      recorded_inspection.process.err = from_placeholder(in.err, work);
      r.reference.inspections.push_back(std::move(recorded_inspection));
    }
    Judgement j = judge(op, fields, r, Normaliser::standard());
    std::vector<std::string> files = file_problems[i];
    if (e.inspections_recorded && r.subject.inspections.size() != e.inspections.size())
      files.push_back("the subject ran " + std::to_string(r.subject.inspections.size()) + " of the " +
                      std::to_string(e.inspections.size()) + " recorded inspections");
    std::string files_text;
    for (const std::string& f : files) files_text += f + (f.ends_with("\n") ? "" : "\n");
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
    }
    if (j.outcome != Outcome::inconclusive && c.divergence.empty() && !files.empty()) {
      o.problems.push_back("files left differ from what qemu-img " + record.version +
                           " left (recorded digest and layout):\n" + files_text);
    } else if (!c.divergence.empty() && j.outcome == Outcome::match && files.empty()) {
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
