// kvm_vm.h: one run of the guest: VM with one memory slot, long-mode set-up,
// ELF load, a wall-clock limit that interrupts KVM_RUN, seccomp after set-up,
// and an exit loop in which every unexpected exit is an error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "vmm/hypercall_handler.h"

namespace instar::vmm {

struct VmConfig {
  uint64_t memory_bytes = 512ull << 20;
  uint32_t timeout_ms = 30000;
  uint64_t max_record_bytes = 64ull << 20;
  bool seccomp = true;  // install the vCPU thread's allowlist once set-up is done
};

struct VmRun {
  bool ok = false;           // the guest exited through the exit hypercall
  uint32_t exit_status = 0;  // its status
  std::string error;         // one line when !ok
  std::vector<uint8_t> record;
  bool has_record = false;
};

// True when /dev/kvm opens and speaks the stable API.
bool kvm_usable();

// Runs `guest_elf` with `request` in its boot info and `devices` attached, on
// the calling thread (which gets the seccomp filter, if asked).
VmRun run_guest(ByteSpan guest_elf, ByteSpan request, const std::vector<DeviceSlot>& devices,
                const VmConfig& config);

}  // namespace instar::vmm
