// replay.cc: replay one case for one profile against the reference qemu-img and the subject.
#include "differential/runner/replay.h"

#include <unistd.h>

#include <stdexcept>
#include <system_error>

#include "differential/runner/compare.h"
#include "differential/runner/process.h"
#include "differential/runner/scratch_directory.h"
#include "differential/runner/setup_runner.h"
#include "differential/runner/tree_copy.h"
#include "differential/runner/tree_digest.h"

namespace instar::diff {
namespace {

struct Layout {
  std::filesystem::path work;      // cwd of every command
  std::filesystem::path snapshot;  // the directory as setup left it
  std::filesystem::path subject;   // <scratch>/bin/qemu-img -> the subject
};

ProcessResult run_qemu_img(const std::filesystem::path& executable, const std::vector<std::string>& args,
                           const std::vector<std::pair<std::string, std::string>>& env, const Layout& layout,
                           std::chrono::milliseconds timeout) {
  ProcessSpec spec;
  spec.executable = executable;
  spec.argv.push_back("qemu-img");  // as typed by a user; qemu-img 10.0 quotes argv[0] in some messages
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = env;
  spec.env.emplace_back("PATH", path_with_first(executable.parent_path()));
  spec.cwd = layout.work;
  spec.timeout = timeout;
  return run_process(spec);
}

bool finished(const ProcessResult& r) {
  return r.ending == ProcessResult::Ending::exited || r.ending == ProcessResult::Ending::signalled;
}

// The work directory and the fingerprint it had when last restored. A run that
// leaves it as it was needs no restore, so read-only operations of the
// reference and the subject see the very same files (a fresh copy may differ
// in allocation by an extent-tree block, which qemu-img reports as disk size).
class WorkDirectory {
 public:
  explicit WorkDirectory(const Layout& layout) : layout_(layout) { restore(); }

  // Restores unless the directory still matches the last restore; returns its fingerprint.
  const TreeDigest& make_pristine() {
    if (digest_tree(layout_.work) != pristine_) restore();
    return pristine_;
  }

 private:
  void restore() {
    std::filesystem::remove_all(layout_.work);
    copy_tree(layout_.snapshot, layout_.work);
    pristine_ = digest_tree(layout_.work);
  }

  const Layout& layout_;
  TreeDigest pristine_;
};

// The operation's inspections, with the reference qemu-img, on the files a run left (after its digest).
void inspect(const Operation& op, const ReplayConfig& config, const Layout& layout,
             const std::vector<std::pair<std::string, std::string>>& env, RunCapture& capture) {
  const std::filesystem::path& tool = config.inspect_with_subject ? layout.subject : config.tools.qemu_img;
  if (tool.empty()) return;  // a live replay without qemu-img has nothing to inspect with
  for (const auto& args : op.inspect)
    capture.inspections.push_back({args, run_qemu_img(tool, args, env, layout, config.timeout)});
}

OperationRun run_operation(const Operation& op, const ReplayConfig& config, const Layout& layout,
                           const std::vector<std::pair<std::string, std::string>>& env, WorkDirectory& work) {
  OperationRun run;
  if (config.run_reference) {
    work.make_pristine();
    run.reference.process = run_qemu_img(config.tools.qemu_img, op.args, env, layout, config.timeout);
    run.reference.files_after = digest_tree(layout.work);
    inspect(op, config, layout, env, run.reference);
  }
  run.before = work.make_pristine();
  run.subject.process = run_qemu_img(layout.subject, op.args, env, layout, config.timeout);
  run.subject.files_after = digest_tree(layout.work);
  inspect(op, config, layout, env, run.subject);
  return run;
}

// Inspections may not change what they look at; a run whose inspections did would be judged on other files.
void check_inspections_left_alone(const OperationRun& run, const Layout& layout) {
  if (run.subject.inspections.empty()) return;
  if (digest_tree(layout.work) != run.subject.files_after)
    throw std::runtime_error("an inspection changed the files it inspected");
}

OperationReport judge_operation(const Case& c, size_t index, const ReplayConfig& config,
                                const OperationRun& run) {
  const Operation& op = c.operations[index];
  OperationReport report;
  report.number = index + 1;
  report.args = op.args;
  const RunCapture& reference = run.reference;
  const RunCapture& subject = run.subject;

  if (!finished(reference.process))
    report.problems.push_back("reference " + describe_ending(reference.process));
  if (!finished(subject.process)) report.problems.push_back("subject " + describe_ending(subject.process));
  std::vector<Mismatch> mismatches = compare_runs(c.compare, reference, subject);
  if (c.divergence.empty() || config.parity_only) {
    for (const Mismatch& m : mismatches)
      report.problems.push_back(m.detail.empty() ? m.summary : m.summary + ":\n" + m.detail);
  } else if (mismatches.empty()) {
    report.problems.push_back("known divergence '" + c.divergence +
                              "' no longer diverges: the subject now matches the reference; remove the "
                              "entry from docs/divergences.md and the case's \"divergence\" key");
  }
  if (!op.writes) {
    for (std::string& v : read_only_violations(run.before, subject.files_after))
      report.problems.push_back(std::move(v));
  }
  report.verdict = report.problems.empty() ? Verdict::pass : Verdict::fail;
  return report;
}

}  // namespace

CaseRun execute_case(const Case& c, const ReplayConfig& config) {
  CaseRun result;
  try {
    ScratchDirectory scratch(config.temp_root.empty() ? default_temp_root() : config.temp_root,
                             "instar-diff-");
    if (config.keep) {
      scratch.keep();
      result.kept_directory = scratch.path();
    }
    Layout layout{scratch.path() / "work", scratch.path() / "snapshot", scratch.path() / "bin" / "qemu-img"};
    std::filesystem::create_directory(layout.work);
    std::filesystem::create_directory(layout.subject.parent_path());
    std::filesystem::create_symlink(std::filesystem::absolute(config.subject), layout.subject);

    std::vector<std::pair<std::string, std::string>> env = c.env;
    env.emplace_back(kProfileVariable, config.tools.profile);

    SetupContext setup{config.tools, layout.work, env, config.timeout};
    if (std::string why = run_setup(config.use_fixture ? c.fixture : c.setup, setup); !why.empty()) {
      result.setup_error = why;
      return result;
    }
    if (config.after_setup) config.after_setup(layout.work);
    std::filesystem::rename(layout.work, layout.snapshot);

    WorkDirectory work(layout);
    for (const Operation& op : c.operations) {
      result.operations.push_back(run_operation(op, config, layout, env, work));
      if (config.after_subject) {
        check_inspections_left_alone(result.operations.back(), layout);
        config.after_subject(result.operations.size() - 1, result.operations.back(), layout.work);
      }
    }
  } catch (const std::exception& e) {
    result.setup_error = std::string("runner error: ") + e.what();
  }
  return result;
}

CaseReport replay_case(const Case& c, const ReplayConfig& config) {
  CaseReport report;
  report.case_name = c.name;
  report.profile = config.tools.profile;
  if (!c.applies_to(config.tools.profile)) {
    report.verdict = Verdict::skip;
    report.message = "the case does not apply to profile " + config.tools.profile;
    return report;
  }
  CaseRun run = execute_case(c, config);
  report.kept_directory = run.kept_directory;
  if (!run.setup_error.empty()) {
    report.verdict = Verdict::fail;
    report.message = run.setup_error;
    return report;
  }
  for (size_t i = 0; i < run.operations.size(); i++) {
    report.operations.push_back(judge_operation(c, i, config, run.operations[i]));
    if (report.operations.back().verdict == Verdict::fail) report.verdict = Verdict::fail;
  }
  return report;
}

}  // namespace instar::diff
