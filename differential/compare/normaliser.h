// normaliser.h: the RE2 rules, kept in one data file, that hide what legitimately differs between runs.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace instar::diff {

struct NormalisationRule {
  std::string name;
  std::string pattern;
  std::string replacement;  // RE2 rewrite (\1 for a group)
  std::string reason;
  std::shared_ptr<re2::RE2> compiled;
};

class Normaliser {
 public:
  // Throws std::runtime_error naming the rule that does not compile or the key that is missing.
  static Normaliser from_json(const std::string& text);
  static Normaliser from_file(const std::filesystem::path& file);
  // differential/normalise/rules.json of the source tree.
  static const Normaliser& standard();

  std::string apply(std::string text) const;
  const std::vector<NormalisationRule>& rules() const { return rules_; }

 private:
  std::vector<NormalisationRule> rules_;
};

// Where the data files of the source tree are (differential/).
std::filesystem::path data_directory();

}  // namespace instar::diff
