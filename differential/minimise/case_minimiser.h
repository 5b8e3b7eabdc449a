// case_minimiser.h: shrink a divergent case (operations, setup steps, options, image sizes) keeping its
// signature.
#pragma once

#include <cstddef>
#include <functional>

#include "differential/case/case.h"

namespace instar::diff {

struct MinimiseResult {
  Case minimal;
  size_t runs = 0;  // how many candidate cases were run
};

// `keeps_divergence(candidate)` runs a candidate and says whether it shows the same signature.
MinimiseResult minimise_case(const Case& c, const std::function<bool(const Case&)>& keeps_divergence);

}  // namespace instar::diff
