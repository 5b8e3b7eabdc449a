// case_minimiser.cc: shrink a divergent case (operations, setup steps, options, image sizes) keeping its
// signature.
#include "differential/minimise/case_minimiser.h"

#include <cstdlib>

#include "differential/minimise/ddmin.h"

namespace instar::diff {
namespace {

template <typename T>
std::vector<T> select(const std::vector<T>& items, const std::vector<size_t>& keep) {
  std::vector<T> out;
  for (size_t i : keep) out.push_back(items[i]);
  return out;
}

bool is_number(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// Smaller image sizes for every `qemu-img create ... SIZE` step.
bool shrink_sizes(Case& c, const std::function<bool(const Case&)>& keeps, size_t& runs) {
  bool changed = false;
  for (auto& step : c.setup) {
    auto* run = std::get_if<RunStep>(&step.action);
    if (!run || run->argv.size() < 3 || run->argv[1] != "create" || !is_number(run->argv.back())) continue;
    uint64_t current = std::strtoull(run->argv.back().c_str(), nullptr, 10);
    for (uint64_t smaller : {0ull, 512ull, 65536ull, 1048576ull, 67108864ull}) {
      if (smaller >= current) break;
      Case candidate = c;
      std::get<RunStep>(candidate.setup[&step - c.setup.data()].action).argv.back() = std::to_string(smaller);
      runs++;
      if (keeps(candidate)) {
        c = candidate;
        changed = true;
        break;
      }
    }
  }
  return changed;
}

}  // namespace

MinimiseResult minimise_case(const Case& original, const std::function<bool(const Case&)>& keeps) {
  MinimiseResult r;
  Case c = original;
  for (int round = 0; round < 3; round++) {
    bool changed = false;
    auto keep_ops = ddmin(
        c.operations.size(),
        [&](const std::vector<size_t>& s) {
          Case t = c;
          t.operations = select(c.operations, s);
          return keeps(t);
        },
        1, &r.runs);
    if (keep_ops.size() < c.operations.size()) {
      c.operations = select(c.operations, keep_ops);
      changed = true;
    }
    auto keep_steps = ddmin(
        c.setup.size(),
        [&](const std::vector<size_t>& s) {
          Case t = c;
          t.setup = select(c.setup, s);
          return keeps(t);
        },
        0, &r.runs);
    if (keep_steps.size() < c.setup.size()) {
      c.setup = select(c.setup, keep_steps);
      changed = true;
    }
    for (size_t i = 0; i < c.operations.size(); i++) {
      std::vector<std::string> options(c.operations[i].args.begin() + 1, c.operations[i].args.end());
      auto keep_args = ddmin(
          options.size(),
          [&](const std::vector<size_t>& s) {
            Case t = c;
            t.operations[i].args.resize(1);
            for (const auto& a : select(options, s)) t.operations[i].args.push_back(a);
            return keeps(t);
          },
          0, &r.runs);
      if (keep_args.size() < options.size()) {
        c.operations[i].args.resize(1);
        for (const auto& a : select(options, keep_args)) c.operations[i].args.push_back(a);
        changed = true;
      }
    }
    changed = shrink_sizes(c, keeps, r.runs) || changed;
    if (!changed) break;
  }
  r.minimal = c;
  return r;
}

}  // namespace instar::diff
