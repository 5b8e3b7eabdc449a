// runtime.cc: what the compiler, core/ and the C libraries expect from a C runtime: mem* functions,
// stack-protector failure, pure-virtual calls, and the IDT. (The heap is malloc.cc; the ring-0 exception
// report is exception.cc.)
#include <stddef.h>
#include <stdint.h>

#include "guest/hypercall.h"

using instar::guest::guest_exit;

extern "C" {

// rep movsb / rep stosb: fast on every CPU with ERMS, and short in code.
void* memcpy(void* dest, const void* src, size_t n) {
  void* d = dest;
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dest;
}

void* memmove(void* dest, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dest);
  const auto* s = static_cast<const uint8_t*>(src);
  if (d <= s || d >= s + n) return memcpy(dest, src, n);
  // Overlapping with the destination above: copy backwards.
  const uint8_t* s_last = s + n - 1;
  uint8_t* d_last = d + n - 1;
  asm volatile("std\n\trep movsb\n\tcld" : "+D"(d_last), "+S"(s_last), "+c"(n) : : "memory");
  return dest;
}

void* memset(void* dest, int c, size_t n) {
  void* d = dest;
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
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
