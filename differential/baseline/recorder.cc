// recorder.cc: run a case's setup and operations with one qemu-img version and record what it did.
#include "differential/baseline/recorder.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "differential/baseline/placeholder.h"
#include "differential/promote/fixture.h"
#include "differential/runner/command_line.h"
#include "differential/runner/process.h"
#include "differential/runner/replay.h"

namespace instar::diff {

std::string qemu_img_version_line(const ProfileTools& tools, std::chrono::milliseconds timeout) {
  ProcessSpec spec;
  spec.executable = tools.qemu_img;
  spec.argv = {"qemu-img", "--version"};
  spec.cwd = "/";
  spec.timeout = timeout;
  ProcessResult r = run_process(spec);
  return r.out.substr(0, r.out.find('\n'));
}

BaselineRecord record_case(const Case& c, const ProfileTools& tools, const std::string& tool_version,
                           std::chrono::milliseconds timeout) {
  // The reference itself is the only side run, through the same symlink a subject gets.
  ReplayConfig config;
  config.tools = tools;
  config.subject = tools.qemu_img;
  config.timeout = timeout;
  config.run_reference = false;
  std::optional<std::vector<SetupStep>> fixture;
  std::string work;
  config.after_setup = [&](const std::filesystem::path& dir) {
    work = dir.string();
    fixture = capture_fixture(dir);
  };
  // What each operation left in the files it wrote, while they are there; a replay has no qemu-img to
  // inspect them with, so it checks the subject's files against these.
  bool compares_files = std::find(c.compare.begin(), c.compare.end(), Field::files) != c.compare.end();
  std::vector<std::vector<WrittenFile>> written(c.operations.size());
  std::string capture_error;
  if (compares_files)
    config.after_subject = [&](size_t i, const OperationRun& run, const std::filesystem::path& dir) {
      try {
        written[i] = capture_written_files(dir, run.before, run.subject.files_after);
      } catch (const std::exception& e) {
        if (capture_error.empty()) capture_error = "operation " + std::to_string(i + 1) + ": " + e.what();
      }
    };
  CaseRun run = execute_case(c, config);
  if (!run.setup_error.empty()) throw std::runtime_error(run.setup_error);
  if (!fixture) throw std::runtime_error("the images are too large to record as a fixture");
  if (!capture_error.empty()) throw std::runtime_error(capture_error);
  BaselineRecord record;
  record.case_name = c.name;
  record.version = tools.profile;
  record.tool_version = tool_version;
  record.setup = c.setup;
  record.fixture = *fixture;
  for (size_t i = 0; i < c.operations.size(); i++) {
    const ProcessResult& r = run.operations[i].subject.process;
    if (r.ending != ProcessResult::Ending::exited)
      throw std::runtime_error("qemu-img did not exit normally: " + describe_ending(r));
    RecordedOperation op;
    op.argv = {"qemu-img"};
    op.argv.insert(op.argv.end(), c.operations[i].args.begin(), c.operations[i].args.end());
    op.exit_code = r.code;
    op.out = to_placeholder(r.out, work);
    op.err = to_placeholder(r.err, work);
    const std::vector<Inspection>& inspections = run.operations[i].subject.inspections;
    if (inspections.size() != c.operations[i].inspect.size())
      throw std::runtime_error("operation " + std::to_string(i + 1) + "'s inspections did not run");
    for (const Inspection& in : inspections) {
      if (in.process.ending != ProcessResult::Ending::exited)
        throw std::runtime_error("inspection qemu-img " + shell_join(in.args) +
                                 " did not exit normally: " + describe_ending(in.process));
      op.inspections.push_back(RecordedInspection{in.args, in.process.code,
                                                  to_placeholder(in.process.out, work),
                                                  to_placeholder(in.process.err, work)});
    }
    op.inspections_recorded = true;
    if (compares_files) op.files = written[i];
    record.operations.push_back(std::move(op));
  }
  return record;
}

}  // namespace instar::diff
