// campaign.h: `instar-diff run` — random cases from (seed, iteration) on N workers until a budget runs out.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "differential/campaign/probe.h"

namespace instar::diff {

struct CampaignConfig {
  ProbeConfig probe;
  uint64_t seed = 1;
  uint64_t iterations = UINT64_MAX;               // --iterations
  std::chrono::milliseconds time_budget{60'000};  // --time-budget
  unsigned jobs = 1;
  uint64_t first_iteration = 0;
  std::filesystem::path out;     // reports/, minimal/
  bool minimise = true;          // minimise the first report of each new signature
  size_t minimise_budget = 300;  // candidate runs at most per minimisation
};

struct CampaignStats {
  uint64_t iterations = 0;
  uint64_t operations = 0;
  uint64_t inconclusive = 0;  // cases where a run timed out, setup failed, or the reference crashed
  uint64_t divergent_cases = 0;
  std::map<std::string, uint64_t> new_signatures;    // id -> occurrences
  std::map<std::string, uint64_t> known_signatures;  // id -> occurrences
  double seconds = 0;
};

CampaignStats run_campaign(const CampaignConfig& config);

}  // namespace instar::diff
