// flag_parser.cc: a small "--name value" / "--name=value" / "--flag" parser for the campaign commands.
#include "differential/commands/flag_parser.h"

#include <cstdint>
#include <cstdlib>

namespace instar::diff {

Flags parse_flags(const std::vector<std::string>& args, const std::set<std::string>& with_value,
                  const std::set<std::string>& switches) {
  Flags f;
  for (size_t i = 0; i < args.size() && f.error.empty(); i++) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-') {
      f.positional.push_back(a);
      continue;
    }
    std::string name = a, value;
    size_t eq = a.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    }
    if (name == "-h") name = "--help";
    if (switches.count(name) && !inline_value) {
      f.switches.insert(name);
    } else if (with_value.count(name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) {
          f.error = name + " needs a value";
          break;
        }
        value = args[++i];
      }
      f.values[name] = value;
    } else {
      f.error = "unknown option " + a;
    }
  }
  return f;
}

uint64_t flag_number(const Flags& f, const std::string& name, uint64_t fallback, std::string& error) {
  auto it = f.values.find(name);
  if (it == f.values.end()) return fallback;
  char* end = nullptr;
  uint64_t n = std::strtoull(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0' || it->second[0] == '-')
    error = name + " " + it->second + ": expected a number";
  return n;
}

}  // namespace instar::diff
