// object_option.cc: key=value parsing of --object (commas doubled to escape).
#include "cli/object_option.h"

#include <map>
#include <vector>

namespace instar::cli {

namespace {

std::vector<std::string> split_options(const std::string& text) {
  std::vector<std::string> parts{""};
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] == ',') {
      if (i + 1 < text.size() && text[i + 1] == ',') {
        parts.back() += ',';
        i++;
      } else {
        parts.emplace_back();
      }
    } else {
      parts.back() += text[i];
    }
  }
  return parts;
}

}  // namespace

std::optional<std::string> check_object_option(const std::string& definition) {
  std::map<std::string, std::string> opts;
  auto parts = split_options(definition);
  for (size_t i = 0; i < parts.size(); i++) {
    size_t eq = parts[i].find('=');
    if (eq == std::string::npos) {
      // The first item without '=' is the type ("secret,id=x").
      if (i == 0)
        opts["qom-type"] = parts[i];
      else
        opts[parts[i]] = "on";
    } else {
      opts[parts[i].substr(0, eq)] = parts[i].substr(eq + 1);
    }
  }
  auto type = opts.find("qom-type");
  if (type == opts.end()) return "Parameter 'qom-type' is missing";
  if (type->second != "secret") return "Parameter 'qom-type' does not accept value '" + type->second + "'";
  if (opts.find("id") == opts.end()) return "Parameter 'id' is missing";
  return std::nullopt;
}

}  // namespace instar::cli
