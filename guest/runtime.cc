// runtime.cc: what the compiler and core/ expect from a C runtime: mem*
// functions, stack-protector failure, pure-virtual calls, and the IDT.
#include <stddef.h>
#include <stdint.h>

#include "guest/hypercall.h"

using instar::guest::guest_exit;
using instar::guest::hypercall;

extern "C" {

void* memcpy(void* dest, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dest);
  const auto* s = static_cast<const uint8_t*>(src);
  for (size_t i = 0; i < n; i++) d[i] = s[i];
  return dest;
}

void* memmove(void* dest, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dest);
  const auto* s = static_cast<const uint8_t*>(src);
  if (d < s) {
    for (size_t i = 0; i < n; i++) d[i] = s[i];
  } else {
    for (size_t i = n; i > 0; i--) d[i - 1] = s[i - 1];
  }
  return dest;
}

void* memset(void* dest, int c, size_t n) {
  auto* d = static_cast<uint8_t*>(dest);
  for (size_t i = 0; i < n; i++) d[i] = static_cast<uint8_t>(c);
  return dest;
}

int memcmp(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const uint8_t*>(a);
  const auto* y = static_cast<const uint8_t*>(b);
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

[[noreturn]] void __stack_chk_fail() { guest_exit(3); }
[[noreturn]] void __cxa_pure_virtual() { guest_exit(4); }

// Reports the exception to the host, which ends the run with an error naming it.
[[noreturn]] void guest_exception(uint64_t vector, uint64_t rip, uint64_t error_code) {
  instar_hc_exception arg{vector, rip, error_code};
  hypercall(INSTAR_HC_EXCEPTION, &arg);
  guest_exit(5);
}

extern const uint64_t guest_isr_table[32];

struct IdtEntry {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attributes;
  uint16_t offset_mid;
  uint32_t offset_high;
  uint32_t zero;
} __attribute__((packed));

void guest_setup_idt() {
  // The monitor points the IDT register at INSTAR_GPA_IDT (ring 3 cannot lidt).
  auto* idt = reinterpret_cast<IdtEntry*>(INSTAR_GPA_IDT);
  for (int i = 0; i < 32; i++) {
    uint64_t handler = guest_isr_table[i];
    idt[i] =
        IdtEntry{static_cast<uint16_t>(handler),       0x08, 0, 0x8e, static_cast<uint16_t>(handler >> 16),
                 static_cast<uint32_t>(handler >> 32), 0};
  }
}

}  // extern "C"
