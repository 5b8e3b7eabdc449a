// json_diff.cc: structural comparison of two JSON documents, naming each differing field by its path.
#include "differential/compare/json_diff.h"

#include <nlohmann/json.hpp>

namespace instar::diff {
namespace {

using Json = nlohmann::ordered_json;

std::string brief(const Json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

void walk(const Json& a, const Json& b, const std::string& path, std::vector<JsonFieldDifference>& out) {
  if (a.is_object() && b.is_object()) {
    std::vector<std::string> keys_a, keys_b;
    for (const auto& item : a.items()) {
      keys_a.push_back(item.key());
      if (b.contains(item.key())) {
        walk(item.value(), b.at(item.key()), path + "/" + item.key(), out);
      } else {
        out.push_back({path + "/" + item.key(), "only in reference"});
      }
    }
    for (const auto& item : b.items()) {
      keys_b.push_back(item.key());
      if (!a.contains(item.key())) out.push_back({path + "/" + item.key(), "only in subject"});
    }
    std::vector<std::string> common_a, common_b;
    for (const auto& k : keys_a)
      if (b.contains(k)) common_a.push_back(k);
    for (const auto& k : keys_b)
      if (a.contains(k)) common_b.push_back(k);
    if (common_a != common_b) out.push_back({path.empty() ? "/" : path, "key order differs"});
    return;
  }
  if (a.is_array() && b.is_array()) {
    size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; i++) walk(a[i], b[i], path + "/" + std::to_string(i), out);
    for (size_t i = n; i < a.size(); i++)
      out.push_back({path + "/" + std::to_string(i), "only in reference"});
    for (size_t i = n; i < b.size(); i++) out.push_back({path + "/" + std::to_string(i), "only in subject"});
    return;
  }
  if (a != b || a.type() != b.type())
    out.push_back({path.empty() ? "/" : path, "value differs: " + brief(a) + " vs " + brief(b)});
}

}  // namespace

bool json_differences(const std::string& reference, const std::string& subject,
                      std::vector<JsonFieldDifference>& out) {
  Json a = Json::parse(reference, nullptr, false);
  Json b = Json::parse(subject, nullptr, false);
  if (a.is_discarded() || b.is_discarded()) return false;
  walk(a, b, "", out);
  return true;
}

}  // namespace instar::diff
