// padded.h: reading tables qemu fetched past the end of the file, where the
// missing bytes read as zeros; and qemu's block-layer I/O ceiling.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"

namespace instar {

// qemu's block layer fails reads reaching past BDRV_MAX_LENGTH (INT64_MAX aligned down to 1 GiB).
inline constexpr uint64_t kQemuMaxIoOffset = 0x7fffffffc0000000ull;

// Big-endian load where bytes past the end of `s` read as zero.
inline uint64_t load_be_padded(ByteSpan s, uint64_t offset, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; i++) {
    uint64_t at = offset + i;
    v = (v << 8) | (at < s.size ? s.data[at] : 0);
  }
  return v;
}

// The C string qemu gets from `length` bytes at `offset`: cut at the first NUL,
// and at the end of `s` (the zero padding beyond it ends the string there).
inline ByteSpan c_string_at(ByteSpan s, uint64_t offset, uint64_t length) {
  if (offset >= s.size) return ByteSpan(s.data + s.size, 0);
  ByteSpan field = s.subspan(static_cast<size_t>(offset), static_cast<size_t>(length));
  size_t n = 0;
  while (n < field.size && field[n] != 0) n++;
  return field.subspan(0, n);
}

}  // namespace instar
