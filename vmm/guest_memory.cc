// guest_memory.cc: an anonymous mapping for guest RAM and its bounds checks.
#include "vmm/guest_memory.h"

#include <sys/mman.h>

namespace instar::vmm {

GuestMemory::~GuestMemory() {
  if (base_ != nullptr) munmap(base_, size_);
}

Result<void> GuestMemory::allocate(uint64_t bytes) {
  if (bytes < kMinGuestMemory || bytes > kMaxGuestMemory || bytes % (2ull << 20) != 0)
    return make_error(Errc::invalid, "guest memory size out of range");
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return make_error(Errc::too_large, "cannot map guest memory");
  base_ = static_cast<uint8_t*>(p);
  size_ = bytes;
  return ok();
}

Result<uint8_t*> GuestMemory::checked(uint64_t gpa, uint64_t length) const {
  if (gpa < kNullPageEnd || gpa > size_ || length > size_ - gpa)
    return make_error(Errc::invalid, "guest address outside guest memory");
  return base_ + gpa;
}

}  // namespace instar::vmm
