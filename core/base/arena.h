// arena.h: bump allocation from a caller-owned buffer, with a hard limit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/result.h"

namespace instar {

class Arena {
 public:
  Arena(uint8_t* base, size_t size) : base_(base), size_(size) {}

  // 16-byte aligned, uninitialised; an error when the arena is exhausted.
  Result<uint8_t*> allocate(size_t bytes) {
    size_t start = (used_ + 15) & ~size_t{15};
    if (start > size_ || bytes > size_ - start) return make_error(Errc::too_large, "Cannot allocate memory");
    used_ = start + bytes;
    return base_ + start;
  }
  // `count` objects of T, the size checked for overflow; uninitialised.
  template <typename T>
  Result<T*> allocate_array(uint64_t count) {
    if (count > SIZE_MAX / sizeof(T)) return make_error(Errc::too_large, "Cannot allocate memory");
    auto bytes = allocate(static_cast<size_t>(count) * sizeof(T));
    if (bytes.is_error()) return bytes.error();
    return reinterpret_cast<T*>(bytes.value());
  }
  size_t used() const { return used_; }
  size_t capacity() const { return size_; }

 private:
  uint8_t* base_;
  size_t size_;
  size_t used_ = 0;
};

}  // namespace instar
