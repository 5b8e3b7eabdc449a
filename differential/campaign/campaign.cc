// campaign.cc: `instar-diff run` — random cases from (seed, iteration) on N workers until a budget runs out.
#include "differential/campaign/campaign.h"

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "differential/campaign/divergence_report.h"
#include "differential/campaign/progress.h"
#include "differential/generate/generator.h"
#include "differential/known/known_divergences.h"
#include "differential/minimise/case_minimiser.h"

namespace instar::diff {
namespace {

struct Shared {
  const CampaignConfig& config;
  std::chrono::steady_clock::time_point deadline;
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> iterations{0}, operations{0}, inconclusive{0}, divergent{0};
  std::mutex mutex;  // guards the maps and report numbering
  std::map<std::string, uint64_t> fresh, known;
  Progress progress{stderr};
};

// Minimise under the same reference and subject; a candidate must show the very same signature.
void minimise_report(DivergenceReport& report, const CampaignConfig& config) {
  auto start = std::chrono::steady_clock::now();
  size_t budget = config.minimise_budget;
  auto result = minimise_case(report.case_, [&](const Case& candidate) {
    if (budget == 0) return false;
    budget--;
    return probe_case(candidate, config.probe).judgement.signature == report.signature;
  });
  result.minimal.name = "min-" + report.signature_id;
  result.minimal.description = "minimal case for " + report.signature;
  report.minimal = result.minimal;
  report.minimise_runs = result.runs;
  report.minimise_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void worker(Shared& s) {
  const CampaignConfig& config = s.config;
  for (;;) {
    if (std::chrono::steady_clock::now() >= s.deadline) return;
    uint64_t index = s.next.fetch_add(1);
    if (index >= config.iterations) return;
    uint64_t iteration = config.first_iteration + index;
    Case c = generate_case(config.seed, iteration);
    Probe p = probe_case(c, config.probe);
    s.iterations++;
    s.operations += p.run.operations.size();
    if (p.judgement.outcome == Outcome::inconclusive) s.inconclusive++;
    if (p.judgement.outcome == Outcome::diverges) {
      s.divergent++;
      DivergenceReport report = make_report(c, p.run, p.judgement, p.operation);
      report.seed = config.seed;
      report.iteration = iteration;
      report.profile = config.probe.tools.profile;
      report.reference = config.probe.tools.qemu_img.string();
      report.subject = config.probe.subject.string();
      const KnownDivergence* known = KnownDivergences::standard().match(report.signature);
      bool first = false;
      {
        std::lock_guard lock(s.mutex);
        auto& counts = known ? s.known : s.fresh;
        first = counts[report.signature_id]++ == 0;
      }
      if (known) report.known = known->id;
      if (first && !known && config.minimise) {
        minimise_report(report, config);
        save_report(report, config.out / "reports" /
                                (report.signature_id + "-" + std::to_string(config.seed) + "-" +
                                 std::to_string(iteration) + ".json"));
        std::ofstream(config.out / "minimal" / ("min-" + report.signature_id + ".json"))
            << serialise_case(*report.minimal);
      } else {
        save_report(report, config.out / "reports" /
                                (report.signature_id + "-" + std::to_string(config.seed) + "-" +
                                 std::to_string(iteration) + ".json"));
      }
    }
    std::lock_guard lock(s.mutex);
    s.progress.update(s.iterations, s.operations, s.fresh.size(), s.known.size(), s.inconclusive);
  }
}

}  // namespace

CampaignStats run_campaign(const CampaignConfig& config) {
  std::filesystem::create_directories(config.out / "reports");
  std::filesystem::create_directories(config.out / "minimal");
  auto start = std::chrono::steady_clock::now();
  Shared s{config, start + config.time_budget};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(1u, config.jobs); i++) threads.emplace_back(worker, std::ref(s));
  for (auto& t : threads) t.join();
  s.progress.update(s.iterations, s.operations, s.fresh.size(), s.known.size(), s.inconclusive, true);
  CampaignStats stats;
  stats.iterations = s.iterations;
  stats.operations = s.operations;
  stats.inconclusive = s.inconclusive;
  stats.divergent_cases = s.divergent;
  stats.new_signatures = s.fresh;
  stats.known_signatures = s.known;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace instar::diff
