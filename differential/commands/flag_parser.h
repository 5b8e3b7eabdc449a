// flag_parser.h: a small "--name value" / "--name=value" / "--flag" parser for the campaign commands.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace instar::diff {

struct Flags {
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
  std::vector<std::string> positional;
  std::string error;
  bool has(const std::string& name) const { return values.count(name) || switches.count(name); }
  std::string get(const std::string& name, const std::string& fallback) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
};

// `with_value` lists the options that take a value; `switches` those that do not.
Flags parse_flags(const std::vector<std::string>& args, const std::set<std::string>& with_value,
                  const std::set<std::string>& switches);

// A non-negative integer, or sets error.
uint64_t flag_number(const Flags& f, const std::string& name, uint64_t fallback, std::string& error);

}  // namespace instar::diff
