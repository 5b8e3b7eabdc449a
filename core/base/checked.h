// checked.h: overflow-checked arithmetic for numbers that come from disk.
#pragma once

#include <stdint.h>

#include "core/base/result.h"

namespace instar {

inline Result<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) return make_error(Errc::overflow, "integer overflow in addition");
  return sum;
}

inline Result<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t product;
  if (__builtin_mul_overflow(a, b, &product))
    return make_error(Errc::overflow, "integer overflow in multiplication");
  return product;
}

// Round `value` up to a multiple of `alignment` (a power of two).
inline Result<uint64_t> checked_align_up(uint64_t value, uint64_t alignment) {
  INSTAR_TRY_ASSIGN(bumped, checked_add(value, alignment - 1));
  return bumped & ~(alignment - 1);
}

inline constexpr bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
inline constexpr bool is_aligned(uint64_t v, uint64_t alignment) { return (v & (alignment - 1)) == 0; }

}  // namespace instar
