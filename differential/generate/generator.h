// generator.h: a random case — images, then 1–4 operations — made from (seed, iteration) alone.
#pragma once

#include <cstdint>
#include <string>

#include "differential/case/case.h"

namespace instar::diff {

// The same (seed, iteration) always gives the same case, on every host.
Case generate_case(uint64_t seed, uint64_t iteration);

// "gen-<seed>-<iteration>".
std::string generated_case_name(uint64_t seed, uint64_t iteration);

}  // namespace instar::diff
