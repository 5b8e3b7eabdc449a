// known_divergences.cc: the registry of deliberate differences — signature pattern, reason, docs link.
#include "differential/known/known_divergences.h"

#include <re2/re2.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "differential/common/whole_file.h"
#include "differential/compare/normaliser.h"

namespace instar::diff {

KnownDivergences KnownDivergences::from_json(const std::string& text) {
  auto root = nlohmann::json::parse(text);
  KnownDivergences k;
  for (const auto& e : root.at("divergences")) {
    KnownDivergence d;
    d.id = e.at("id").get<std::string>();
    d.signature = e.at("signature").get<std::string>();
    d.reason = e.at("reason").get<std::string>();
    d.docs = e.at("docs").get<std::string>();
    if (d.reason.empty()) throw std::runtime_error(d.id + ": an entry needs its reason");
    d.compiled = std::make_shared<re2::RE2>(d.signature);
    if (!d.compiled->ok()) throw std::runtime_error(d.id + ": " + d.compiled->error());
    k.entries_.push_back(std::move(d));
  }
  return k;
}

KnownDivergences KnownDivergences::from_file(const std::filesystem::path& file) {
  std::optional<std::string> text = read_whole_file(file);
  if (!text) throw std::runtime_error("cannot read " + file.string());
  try {
    return from_json(*text);
  } catch (const std::exception& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

const KnownDivergences& KnownDivergences::standard() {
  static const KnownDivergences k = from_file(data_directory() / "known-divergences.json");
  return k;
}

const KnownDivergence* KnownDivergences::match(const std::string& signature) const {
  for (const auto& e : entries_) {
    if (re2::RE2::PartialMatch(signature, *e.compiled)) return &e;
  }
  return nullptr;
}

}  // namespace instar::diff
