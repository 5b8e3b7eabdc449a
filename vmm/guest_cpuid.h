// guest_cpuid.h: the CPUID the guest sees: the host's own answers for a few leaves, with only the
// features the guest may use (SSE to SSE4.2, XSAVE of x87/SSE state, BMI1/BMI2, ERMS).
#pragma once

#include <linux/kvm.h>

#include <cstdint>

namespace instar::vmm {

inline constexpr int kGuestCpuidEntries = 7;

// Laid out as struct kvm_cpuid2 with its entries, for KVM_SET_CPUID2.
struct GuestCpuid {
  uint32_t nent;
  uint32_t padding;
  kvm_cpuid_entry2 entries[kGuestCpuidEntries];
};

// Built from the CPUID instruction rather than KVM_GET_SUPPORTED_CPUID: in a nested VM every host CPUID
// exits to the outer hypervisor, and KVM's full table (about 75 entries) cost ~0.9 ms per launch here.
GuestCpuid guest_cpuid();

}  // namespace instar::vmm
