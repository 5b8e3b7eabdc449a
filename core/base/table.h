// table.h: one validation helper for every on-disk table (after QEMU's qcow2_validate_table).
#pragma once

#include <stdint.h>

#include "core/base/checked.h"
#include "core/base/result.h"

namespace instar {

// A table of `entries` entries of `entry_size` bytes at `offset`:
//  - entries <= max_bytes / entry_size (checked by division, never by a product that can wrap),
//  - offset aligned to `alignment` (a power of two),
//  - offset + entries * entry_size <= INT64_MAX.
// On error the message is `too_big_message` or `unaligned_message`.
inline Result<void> validate_table(uint64_t offset, uint64_t entries, uint64_t entry_size, uint64_t max_bytes,
                                   uint64_t alignment, const char* too_big_message,
                                   const char* unaligned_message) {
  if (entry_size == 0 || entries > max_bytes / entry_size)
    return make_error(Errc::too_large, too_big_message);
  uint64_t bytes = entries * entry_size;
  if (!is_aligned(offset, alignment)) return make_error(Errc::invalid, unaligned_message);
  // Signed INT64_MAX bounds even unsigned fields: offsets end up in signed arithmetic.
  constexpr uint64_t int64_max = (uint64_t{1} << 63) - 1;
  if (bytes > int64_max || offset > int64_max - bytes) return make_error(Errc::invalid, unaligned_message);
  return ok();
}

}  // namespace instar
