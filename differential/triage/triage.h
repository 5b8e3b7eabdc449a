// triage.h: group divergence reports by signature — count, first and last seen, minimal case, replay command.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "differential/campaign/divergence_report.h"

namespace instar::diff {

struct TriageGroup {
  std::string signature;
  std::string signature_id;
  std::string known;  // known-divergence id, or ""
  size_t count = 0;
  std::string first_seen, last_seen;
  std::filesystem::path example;  // the report holding the minimal case (or the first one)
  std::string minimal_case;       // canonical case text
  std::string replay_command;
  std::string diff;
};

// Reads every *.json report below `dir`, newest-new-first ordering: new before known, then by count.
std::vector<TriageGroup> triage_directory(const std::filesystem::path& dir);

std::string triage_text(const std::vector<TriageGroup>& groups);
std::string triage_json(const std::vector<TriageGroup>& groups);
std::string triage_html(const std::vector<TriageGroup>& groups);

}  // namespace instar::diff
