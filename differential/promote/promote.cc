// promote.cc: turn a divergence report into a regression case that carries the reference's recorded
// behaviour.
#include "differential/promote/promote.h"

#include <stdexcept>

#include "differential/promote/fixture.h"

namespace instar::diff {

Case promote_report(const DivergenceReport& report, const ProbeConfig& config, const std::string& name) {
  Case c = report.minimal ? *report.minimal : report.case_;
  c.name = name;
  c.description = "promoted from instar-diff run --seed " + std::to_string(report.seed) + " (iteration " +
                  std::to_string(report.iteration) + "): " + report.signature;
  c.profiles = {config.tools.profile};
  c.divergence = report.known;
  ReplayConfig replay;
  replay.tools = config.tools;
  replay.subject = config.subject;
  replay.timeout = config.timeout;
  std::optional<std::vector<SetupStep>> fixture;
  replay.after_setup = [&](const std::filesystem::path& dir) { fixture = capture_fixture(dir); };
  CaseRun run = execute_case(c, replay);
  if (!run.setup_error.empty()) throw std::runtime_error(run.setup_error);
  if (!fixture) throw std::runtime_error("the images are too large to record as a fixture");
  c.fixture = *fixture;
  for (size_t i = 0; i < c.operations.size(); i++) {
    const ProcessResult& r = run.operations[i].reference.process;
    if (r.ending != ProcessResult::Ending::exited)
      throw std::runtime_error("the reference did not exit normally: " + describe_ending(r));
    c.operations[i].expect = {Expectation{config.tools.profile, r.code, r.out, r.err}};
  }
  return c;
}

}  // namespace instar::diff
