// ddmin.h: Zeller's delta debugging — a 1-minimal subset of items that still shows the failure.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace instar::diff {

// `still_fails(subset)` is asked about subsets (indices into 0..n-1, ascending). Returns a subset
// that still fails and from which no single item can be removed; all of 0..n-1 when nothing smaller
// fails. `min_size` keeps at least that many items. `tests` (if set) counts the predicate's runs.
std::vector<size_t> ddmin(size_t n, const std::function<bool(const std::vector<size_t>&)>& still_fails,
                          size_t min_size = 0, size_t* tests = nullptr);

}  // namespace instar::diff
