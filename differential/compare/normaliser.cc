// normaliser.cc: the RE2 rules, kept in one data file, that hide what legitimately differs between runs.
#include "differential/compare/normaliser.h"

#include <re2/re2.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "differential/common/whole_file.h"

namespace instar::diff {

std::filesystem::path data_directory() {
  if (const char* dir = std::getenv("INSTAR_DIFF_DATA")) return dir;
  return INSTAR_DIFF_DATA_DIR;
}

Normaliser Normaliser::from_json(const std::string& text) {
  auto root = nlohmann::json::parse(text);
  Normaliser n;
  for (const auto& r : root.at("rules")) {
    NormalisationRule rule;
    rule.name = r.at("name").get<std::string>();
    rule.pattern = r.at("pattern").get<std::string>();
    rule.replacement = r.at("replacement").get<std::string>();
    rule.reason = r.at("reason").get<std::string>();
    if (rule.reason.empty()) throw std::runtime_error("rule " + rule.name + ": a rule needs its reason");
    rule.compiled = std::make_shared<re2::RE2>(rule.pattern);
    if (!rule.compiled->ok()) throw std::runtime_error("rule " + rule.name + ": " + rule.compiled->error());
    std::string why;
    if (!rule.compiled->CheckRewriteString(rule.replacement, &why))
      throw std::runtime_error("rule " + rule.name + ": " + why);
    n.rules_.push_back(std::move(rule));
  }
  return n;
}

Normaliser Normaliser::from_file(const std::filesystem::path& file) {
  std::optional<std::string> text = read_whole_file(file);
  if (!text) throw std::runtime_error("cannot read " + file.string());
  try {
    return from_json(*text);
  } catch (const std::exception& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

const Normaliser& Normaliser::standard() {
  static const Normaliser n = from_file(data_directory() / "normalise" / "rules.json");
  return n;
}

std::string Normaliser::apply(std::string text) const {
  for (const auto& rule : rules_) re2::RE2::GlobalReplace(&text, *rule.compiled, rule.replacement);
  return text;
}

}  // namespace instar::diff
