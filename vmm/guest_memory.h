// guest_memory.h: the guest's RAM as seen from the host, and the one checked
// helper through which every guest-physical address is turned into a pointer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/base/result.h"

namespace instar::vmm {

inline constexpr uint64_t kMinGuestMemory = 16ull << 20;
inline constexpr uint64_t kMaxGuestMemory = 1ull << 30;  // hard cap: one page directory of 2 MiB pages
inline constexpr uint64_t kNullPageEnd = 0x1000;

class GuestMemory {
 public:
  GuestMemory() = default;
  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  // Reserves `bytes` (a multiple of 2 MiB, within the limits) of zeroed, lazily backed memory.
  Result<void> allocate(uint64_t bytes);

  uint8_t* host_base() const { return base_; }
  uint64_t size() const { return size_; }

  // The host pointer for [gpa, gpa + length), or an error when any byte lies in
  // the null page or outside guest RAM (overflow included). Never dereference a
  // guest address any other way.
  Result<uint8_t*> checked(uint64_t gpa, uint64_t length) const;

 private:
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace instar::vmm
