// bytes.h: ByteSpan, a non-owning view of bytes (core/ cannot use <span>).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace instar {

struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t size = 0;

  constexpr ByteSpan() = default;
  constexpr ByteSpan(const uint8_t* d, size_t n) : data(d), size(n) {}

  // The bytes [offset, offset + length) clamped to what exists.
  constexpr ByteSpan subspan(size_t offset, size_t length) const {
    if (offset > size) return ByteSpan(data + size, 0);
    size_t left = size - offset;
    return ByteSpan(data + offset, length < left ? length : left);
  }
  constexpr ByteSpan subspan(size_t offset) const { return subspan(offset, size); }
  constexpr const uint8_t& operator[](size_t i) const { return data[i]; }
};

// Byte-wise helpers that do not need libc (the guest has no string.h). Both look at the first word
// alone first (data usually differs there), then fold the rest a word at a time without an early
// exit: a loop the compiler vectorises (convert and compare scan every sector they read this way).
namespace bytes_detail {
inline uint64_t word_at(const uint8_t* p) {
  uint64_t w;
  __builtin_memcpy(&w, p, sizeof w);
  return w;
}
}  // namespace bytes_detail

inline bool bytes_equal(const uint8_t* a, const void* b, size_t n) {
  const uint8_t* bb = static_cast<const uint8_t*>(b);
  size_t i = 0;
  if (n >= 8) {
    if (bytes_detail::word_at(a) != bytes_detail::word_at(bb)) return false;
    uint64_t diff = 0;
    for (i = 8; i + 8 <= n; i += 8) diff |= bytes_detail::word_at(a + i) ^ bytes_detail::word_at(bb + i);
    if (diff != 0) return false;
  }
  for (; i < n; i++)
    if (a[i] != bb[i]) return false;
  return true;
}

inline bool all_zero(ByteSpan s) {
  size_t i = 0;
  if (s.size >= 8) {
    if (bytes_detail::word_at(s.data) != 0) return false;
    uint64_t acc = 0;
    for (i = 8; i + 8 <= s.size; i += 8) acc |= bytes_detail::word_at(s.data + i);
    if (acc != 0) return false;
  }
  for (; i < s.size; i++)
    if (s.data[i] != 0) return false;
  return true;
}

inline size_t c_string_length(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') n++;
  return n;
}

}  // namespace instar
