// json_diff.h: structural comparison of two JSON documents, naming each differing field by its path.
#pragma once

#include <string>
#include <vector>

namespace instar::diff {

struct JsonFieldDifference {
  std::string path;  // JSON pointer style: "/format-specific/data/compat", "/children/0/info"
  std::string what;  // "value differs: \"1.1\" vs \"0.10\"", "only in reference", "only in subject"
};

// Empty when the two parse to the same value (key order matters too: qemu-img's order is output).
// Returns false when either side is not JSON.
bool json_differences(const std::string& reference, const std::string& subject,
                      std::vector<JsonFieldDifference>& out);

}  // namespace instar::diff
