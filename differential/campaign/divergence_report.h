// divergence_report.h: one JSON file per divergence — seed, iteration, case, both results, diff, signature.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "differential/case/case.h"
#include "differential/compare/divergence.h"

namespace instar::diff {

struct SideResult {
  std::string ending;  // "exit 0", "killed by signal 11 (...)"
  int exit_code = 0;
  std::string out;
  std::string err;
};

struct DivergenceReport {
  std::string signature;
  std::string signature_id;
  std::string known;  // id of the matching known divergence, or ""
  uint64_t seed = 0;
  uint64_t iteration = 0;
  std::string profile;
  std::string reference;  // executables
  std::string subject;
  size_t operation = 0;  // 0-based index of the divergent operation
  std::string found_at;  // ISO 8601 UTC
  Case case_;
  SideResult reference_result;
  SideResult subject_result;
  std::string diff;
  std::optional<Case> minimal;
  size_t minimise_runs = 0;
  double minimise_seconds = 0;
};

DivergenceReport make_report(const Case& c, const CaseRun& run, const Judgement& j, size_t operation);
std::string report_to_json(const DivergenceReport& r);
DivergenceReport report_from_json(const std::string& text);  // throws std::exception
DivergenceReport load_report(const std::filesystem::path& file);
void save_report(const DivergenceReport& r, const std::filesystem::path& file);

std::string utc_now();

}  // namespace instar::diff
