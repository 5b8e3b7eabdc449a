// tripwire.h: the check that a case family and its recorded baselines still describe the same cases.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace instar::diff {

// One line per disagreement between corpora/cases/<family> and corpora/baselines/<family>: a
// case without a baseline in a version or profile directory, a baseline without a case, a
// baseline recorded from another setup or other arguments than its case now has, output files
// that are missing or belong to no meta.json, and a version-map.json that does not match the
// directories. Empty when they agree.
std::vector<std::string> check_family(const std::filesystem::path& cases_dir,
                                      const std::filesystem::path& baselines_dir);

}  // namespace instar::diff
