// kvm_sandbox.cc: core/ inside a KVM guest: the embedded guest ELF, the request
// in its boot page, the image as device 0 (read-only), the record decoded as hostile.
#include <thread>

#include "cli/sandbox/sandbox.h"
#include "vmm/kvm_vm.h"

extern "C" const uint8_t instar_guest_elf_start[];
extern "C" const uint8_t instar_guest_elf_end[];

namespace instar::cli {

bool kvm_sandbox_available() {
  static const bool usable = vmm::kvm_usable();
  return usable;
}

Result<DecodedRecord> run_kvm_sandbox(const SandboxOptions& options, const Request& request,
                                      const HostDevices& devices) {
  static std::string message;  // Error messages are static text; this one is built per failure.
  if (!kvm_sandbox_available()) return make_error(Errc::unsupported, "sandbox: /dev/kvm is not usable here");
  std::vector<vmm::DeviceSlot> slots;
  if (devices.image != nullptr)
    slots.push_back({devices.image->fd(), devices.image->size(), devices.image->writable(),
                     devices.image->allocated_size()});
  for (FileBlockDevice* d : devices.attached)
    slots.push_back({d->fd(), d->size(), d->writable(), d->allocated_size()});
  vmm::VmConfig config;
  config.memory_bytes = options.memory_mib << 20;
  config.timeout_ms = options.timeout_ms;
  config.max_record_bytes = core_memory(options).record;
  ByteSpan elf(instar_guest_elf_start, static_cast<size_t>(instar_guest_elf_end - instar_guest_elf_start));
  ByteSpan request_bytes(reinterpret_cast<const uint8_t*>(&request), sizeof request);
  // Its own thread, so the seccomp filter confines the vCPU loop and not the CLI.
  vmm::VmRun run;
  std::thread vcpu([&] { run = vmm::run_guest(elf, request_bytes, slots, config); });
  vcpu.join();
  if (!run.ok) {
    message = "sandbox: " + run.error;
    return make_error(Errc::io, message.c_str());
  }
  if (run.exit_status != 0 || !run.has_record) {
    message = "sandbox: the guest exited with status " + std::to_string(run.exit_status) + " and no result";
    return make_error(Errc::io, message.c_str());
  }
  return decode_record(ByteSpan(run.record.data(), run.record.size()));
}

}  // namespace instar::cli
