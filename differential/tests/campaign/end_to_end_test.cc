// end_to_end_test.cc: a subject that corrupts one kind of output is found, minimised to the offending
// operation and promoted; the promoted case fails against that subject and passes against instar.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "differential/campaign/campaign.h"
#include "differential/promote/promote.h"
#include "differential/runner/recorded_replay.h"
#include "differential/runner/scratch_directory.h"
#include "differential/triage/triage.h"

namespace instar::diff {
namespace {

#ifdef INSTAR_BINARY
TEST(EndToEnd, CorruptingSubjectIsFoundMinimisedAndPromoted) {
  const std::filesystem::path qemu_img = "/usr/bin/qemu-img";
  if (access(qemu_img.c_str(), X_OK) != 0 || detect_profile(qemu_img, std::chrono::seconds(10)).empty())
    GTEST_SKIP() << "no qemu-img 7.2 or 10.0 at " << qemu_img;
  ScratchDirectory scratch(default_temp_root(), "instar-diff-e2e-");
  // Human output of a qcow2 image says "file format: QCOW2": one kind of output, corrupted.
  std::filesystem::path wrapper = scratch.path() / "corrupting-instar";
  std::ofstream(wrapper) << "#!/bin/bash\n(exec -a qemu-img \"" INSTAR_BINARY
                            "\" \"$@\") | sed 's/^file format: qcow2$/file format: QCOW2/'\n"
                            "exit ${PIPESTATUS[0]}\n";
  chmod(wrapper.c_str(), 0755);

  CampaignConfig config;
  config.probe.tools = reference_tools(qemu_img, detect_profile(qemu_img, std::chrono::seconds(10)));
  config.probe.subject = wrapper;
  config.probe.timeout = std::chrono::seconds(30);
  // A seed whose 12 cases hit the corrupted output once, in a case whose minimal form needs one setup step
  // (the cases a seed yields change whenever the operation registry does: check -r moved them).
  config.seed = 12;
  config.iterations = 12;
  config.jobs = 2;
  config.time_budget = std::chrono::seconds(120);
  config.out = scratch.path() / "out";
  run_campaign(config);

  const TriageGroup* found = nullptr;
  auto groups = triage_directory(config.out / "reports");
  for (const auto& g : groups)
    if (g.signature.find("+file format: QCOW") != std::string::npos && g.known.empty()) found = &g;
  ASSERT_NE(found, nullptr) << triage_text(groups);
  DivergenceReport report = load_report(found->example);
  ASSERT_TRUE(report.minimal.has_value());
  const Case& minimal = *report.minimal;
  ASSERT_EQ(minimal.operations.size(), 1u) << serialise_case(minimal);
  EXPECT_EQ(minimal.operations[0].args[0], "info");
  for (const auto& a : minimal.operations[0].args) EXPECT_NE(a, "--output=json") << serialise_case(minimal);
  EXPECT_LE(minimal.setup.size(), 1u) << serialise_case(minimal);
  std::cout << "minimised in " << report.minimise_runs << " runs, " << report.minimise_seconds << " s\n";

  Case promoted = promote_report(report, config.probe, "e2e-corrupt-format");
  EXPECT_FALSE(promoted.fixture.empty());
  Case reread = parse_case(serialise_case(promoted));
  auto against_wrapper =
      replay_recorded(reread, config.probe.tools.profile, wrapper, std::chrono::seconds(30));
  EXPECT_EQ(against_wrapper.verdict, Verdict::fail) << format_report(against_wrapper);
  auto against_instar =
      replay_recorded(reread, config.probe.tools.profile, INSTAR_BINARY, std::chrono::seconds(30));
  EXPECT_EQ(against_instar.verdict, Verdict::pass) << format_report(against_instar);
}
#endif

}  // namespace
}  // namespace instar::diff
