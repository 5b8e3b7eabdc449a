// known_divergences.h: the registry of deliberate differences — signature pattern, reason, docs link.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace instar::diff {

struct KnownDivergence {
  std::string id;         // a "## <id>" heading of docs/divergences.md, as in a case's "divergence" key
  std::string signature;  // RE2, searched for in a divergence's signature text
  std::string reason;
  std::string docs;  // "docs/divergences.md#<id>"
  std::shared_ptr<re2::RE2> compiled;
};

class KnownDivergences {
 public:
  static KnownDivergences from_json(const std::string& text);  // throws std::runtime_error
  static KnownDivergences from_file(const std::filesystem::path& file);
  // differential/known-divergences.json of the source tree.
  static const KnownDivergences& standard();

  // The entry whose pattern the signature matches, or nullptr: a new divergence.
  const KnownDivergence* match(const std::string& signature) const;
  const std::vector<KnownDivergence>& entries() const { return entries_; }

 private:
  std::vector<KnownDivergence> entries_;
};

}  // namespace instar::diff
