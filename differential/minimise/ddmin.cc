// ddmin.cc: Zeller's delta debugging — a 1-minimal subset of items that still shows the failure.
#include "differential/minimise/ddmin.h"

#include <algorithm>

namespace instar::diff {

std::vector<size_t> ddmin(size_t n, const std::function<bool(const std::vector<size_t>&)>& still_fails,
                          size_t min_size, size_t* tests) {
  std::vector<size_t> current(n);
  for (size_t i = 0; i < n; i++) current[i] = i;
  auto ask = [&](const std::vector<size_t>& s) {
    if (tests) ++*tests;
    return still_fails(s);
  };
  if (n > min_size && min_size == 0 && ask({})) return {};
  size_t granularity = 2;
  while (current.size() >= 2 && current.size() > min_size) {
    granularity = std::min(granularity, current.size());
    size_t chunk = (current.size() + granularity - 1) / granularity;
    bool reduced = false;
    // Try each chunk alone, then each complement.
    for (size_t start = 0; start < current.size() && !reduced; start += chunk) {
      std::vector<size_t> subset(current.begin() + start,
                                 current.begin() + std::min(current.size(), start + chunk));
      if (subset.size() >= min_size && subset.size() < current.size() && ask(subset)) {
        current = subset;
        granularity = 2;
        reduced = true;
      }
    }
    for (size_t start = 0; start < current.size() && !reduced; start += chunk) {
      std::vector<size_t> complement;
      for (size_t i = 0; i < current.size(); i++)
        if (i < start || i >= start + chunk) complement.push_back(current[i]);
      if (complement.size() >= min_size && complement.size() < current.size() && ask(complement)) {
        current = complement;
        granularity = std::max<size_t>(granularity - 1, 2);
        reduced = true;
      }
    }
    if (reduced) continue;
    if (granularity >= current.size()) break;
    granularity = std::min(current.size(), granularity * 2);
  }
  return current;
}

}  // namespace instar::diff
