// fuzz_support.h: what every fuzz target shares: the input cap, invariants that trap, a byte reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/base/bytes.h"
#include "core/base/result.h"

namespace instar::fuzz {

// Bounded work per input: a target ignores anything larger (libqcow's fuzzers cap their reads the same way).
inline constexpr size_t kMaxInputBytes = 1u << 20;

// An invariant did not hold: say which, then stop the way libFuzzer and the replay both report as a crash.
[[noreturn]] inline void invariant_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", file, line, condition);
  std::fflush(stderr);
  __builtin_trap();
}

}  // namespace instar::fuzz

// Checks an invariant of the code under test; a violation is a finding, exactly like a sanitizer report.
#define INSTAR_FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::instar::fuzz::invariant_failed(#condition, __FILE__, __LINE__))

namespace instar::fuzz {

// Takes fixed-width values from the front of the input (big-endian); past the end everything reads as
// zero, so every byte string is a valid sequence of values.
class InputReader {
 public:
  explicit InputReader(ByteSpan bytes) : bytes_(bytes) {}

  bool empty() const { return pos_ >= bytes_.size; }
  size_t remaining() const { return empty() ? 0 : bytes_.size - pos_; }
  uint8_t u8() { return static_cast<uint8_t>(take(1)); }
  uint16_t u16() { return static_cast<uint16_t>(take(2)); }
  uint32_t u32() { return static_cast<uint32_t>(take(4)); }
  uint64_t u64() { return take(8); }
  // Up to `n` bytes (fewer at the end of the input).
  ByteSpan bytes(size_t n) {
    ByteSpan out = bytes_.subspan(pos_, n);
    pos_ += out.size;
    return out;
  }
  ByteSpan rest() { return bytes(remaining()); }

 private:
  uint64_t take(size_t width) {
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++) v = (v << 8) | (pos_ < bytes_.size ? bytes_.data[pos_++] : 0);
    return v;
  }

  ByteSpan bytes_;
  size_t pos_ = 0;
};

// True if `inner` lies within `outer` (an empty span may sit at its end).
inline bool span_within(ByteSpan inner, ByteSpan outer) {
  if (inner.size == 0 && inner.data == nullptr) return true;
  auto begin = reinterpret_cast<uintptr_t>(outer.data), at = reinterpret_cast<uintptr_t>(inner.data);
  return at >= begin && at <= begin + outer.size && inner.size <= begin + outer.size - at;
}

inline bool has_nul(ByteSpan s) { return std::memchr(s.data, 0, s.size) != nullptr; }

// Two errors are the same report: class, text and numbers.
inline bool same_error(const Error& a, const Error& b) {
  return a.code == b.code && std::strcmp(a.message, b.message) == 0 && a.has_detail == b.has_detail &&
         a.detail == b.detail && a.detail2 == b.detail2;
}

// A C string written into `out[capacity]` ends inside it.
inline bool nul_terminated_within(const char* out, size_t capacity) {
  return capacity > 0 && std::memchr(out, 0, capacity) != nullptr;
}

}  // namespace instar::fuzz
