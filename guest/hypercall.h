// hypercall.h: issuing a hypercall: `out` of the argument's address to the call's port.
#pragma once

#include <stdint.h>

#include "vmm/abi/instar_abi.h"

namespace instar::guest {

inline void hypercall(unsigned call, volatile void* argument) {
  uint32_t gpa = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(argument));
  uint16_t port = static_cast<uint16_t>(INSTAR_HC_PORT_BASE + call);
  // In ring 3 the `out` faults (#GP) and the ring-0 stub performs it (boot.S, isr13).
  asm volatile("outl %0, %1" : : "a"(gpa), "d"(port) : "memory");
}

[[noreturn]] inline void guest_exit(uint32_t status) {
  instar_hc_exit arg{status, 0};
  hypercall(INSTAR_HC_EXIT, &arg);
  for (;;) asm volatile("hlt");
}

}  // namespace instar::guest
