// guest_cpuid.cc: the guest's CPUID (see guest_cpuid.h).
#include "vmm/guest_cpuid.h"

#include <cpuid.h>

namespace instar::vmm {
namespace {

// Leaf 1 EDX: FPU, TSC, CX8, CMOV, MMX, FXSR, SSE, SSE2.
constexpr uint32_t kLeaf1Edx = (1u << 0) | (1u << 4) | (1u << 8) | (1u << 15) | (1u << 23) | (1u << 24) |
                               (1u << 25) | (1u << 26);
// Leaf 1 ECX: SSE3, PCLMULQDQ, SSSE3, CX16, SSE4.1, SSE4.2, POPCNT, XSAVE, OSXSAVE (KVM keeps the last
// in step with CR4). No AVX: XCR0 holds x87 and SSE state only.
constexpr uint32_t kLeaf1Ecx = (1u << 0) | (1u << 1) | (1u << 9) | (1u << 13) | (1u << 19) | (1u << 20) |
                               (1u << 23) | (1u << 26) | (1u << 27);
// Leaf 7 EBX: BMI1, BMI2 (libzstd's Huffman decoder checks it), ERMS (rep movsb/stosb).
constexpr uint32_t kLeaf7Ebx = (1u << 3) | (1u << 8) | (1u << 9);
// Extended leaf 0x80000001 EDX: NX, long mode; ECX: LAHF in 64-bit mode, ABM (LZCNT).
constexpr uint32_t kExt1Edx = (1u << 20) | (1u << 29);
constexpr uint32_t kExt1Ecx = (1u << 0) | (1u << 5);

kvm_cpuid_entry2 entry(uint32_t function, uint32_t index, bool indexed) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.index = index;
  e.flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
  __cpuid_count(function, index, e.eax, e.ebx, e.ecx, e.edx);
  return e;
}

}  // namespace

GuestCpuid guest_cpuid() {
  GuestCpuid c{};
  int n = 0;
  kvm_cpuid_entry2 vendor = entry(0, 0, false);
  vendor.eax = vendor.eax < 0xd ? vendor.eax : 0xd;  // the highest basic leaf listed here
  c.entries[n++] = vendor;
  kvm_cpuid_entry2 features = entry(1, 0, false);
  features.ebx &= 0x0000ffffu;  // brand index and CLFLUSH size; one logical CPU, APIC ID 0
  features.ebx |= 1u << 16;
  features.ecx &= kLeaf1Ecx;
  features.edx &= kLeaf1Edx;
  c.entries[n++] = features;
  kvm_cpuid_entry2 extended = entry(7, 0, true);
  extended.eax = 0;
  extended.ebx &= kLeaf7Ebx;
  extended.ecx = extended.edx = 0;
  c.entries[n++] = extended;
  // XSAVE: x87 and SSE state only (what XCR0 is set to), 576 bytes.
  kvm_cpuid_entry2 xsave = entry(0xd, 0, true);
  xsave.eax = 0x3;
  xsave.ebx = xsave.ecx = 576;
  xsave.edx = 0;
  c.entries[n++] = xsave;
  kvm_cpuid_entry2 xsave1 = entry(0xd, 1, true);
  xsave1.eax = xsave1.ebx = xsave1.ecx = xsave1.edx = 0;
  c.entries[n++] = xsave1;
  kvm_cpuid_entry2 max_ext = entry(0x80000000, 0, false);
  max_ext.eax = 0x80000001;
  c.entries[n++] = max_ext;
  kvm_cpuid_entry2 ext1 = entry(0x80000001, 0, false);
  ext1.ecx &= kExt1Ecx;
  ext1.edx &= kExt1Edx;
  ext1.eax = ext1.ebx = 0;
  c.entries[n++] = ext1;
  c.nent = static_cast<uint32_t>(n);
  return c;
}

}  // namespace instar::vmm
