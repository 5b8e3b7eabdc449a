// kvm_sandbox.cc: core/ inside a KVM guest: the embedded guest ELF, the request
// in its boot page, the image as device 0 (read-only), the record decoded as hostile.
#include <algorithm>
#include <thread>

#include "cli/sandbox/sandbox.h"
#include "core/ops/info_record.h"
#include "vmm/kvm_vm.h"

extern "C" const uint8_t instar_guest_elf_start[];
extern "C" const uint8_t instar_guest_elf_end[];

namespace instar::cli {
namespace {

// The first run of a process gets this much guest memory (or the limit, if lower). Registering guest
// memory with KVM costs about 0.1 ms up to 192 MiB but 1-35 ms from 256 MiB on this machine (the
// memory slot's bookkeeping; docs/bench.md), which would dominate a short run such as info.
constexpr uint64_t kFirstRunMemoryMib = 128;

struct KvmOutcome {
  Result<DecodedRecord> result;
  bool wants_more_memory;  // a run with more memory may succeed where this one did not
};

KvmOutcome run_once(const SandboxOptions& options, const Request& request, const HostDevices& devices) {
  static std::string message;  // Error messages are static text; this one is built per failure.
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
    return {make_error(Errc::io, message.c_str()), false};
  }
  if (run.exit_status != 0 || !run.has_record) {
    message = "sandbox: the guest exited with status " + std::to_string(run.exit_status) + " and no result";
    // Status 6: the result record did not fit in its quarter of guest memory.
    return {make_error(Errc::io, message.c_str()), run.exit_status == 6};
  }
  Result<DecodedRecord> decoded = decode_record(ByteSpan(run.record.data(), run.record.size()));
  // core's scratch arena ran out ("Cannot allocate memory"), or another size limit: a genuine limit of
  // the format fails again the same way with more memory.
  bool more = false;
  if (decoded.is_ok()) {
    auto code = decoded.value().root.u64_of(kTagErrorCode);
    more = code && *code == static_cast<uint64_t>(Errc::too_large);
  }
  return {std::move(decoded), more};
}

}  // namespace

bool kvm_sandbox_available() {
  static const bool usable = vmm::kvm_usable();
  return usable;
}

Result<DecodedRecord> run_kvm_sandbox(const SandboxOptions& options, const Request& request,
                                      const HostDevices& devices) {
  if (!kvm_sandbox_available()) return make_error(Errc::unsupported, "sandbox: /dev/kvm is not usable here");
  // Small first; the whole limit once a run of this process needed it (attach rounds repeat the run).
  static uint64_t first_mib = kFirstRunMemoryMib;
  SandboxOptions sized = options;
  sized.memory_mib = std::min(first_mib, options.memory_mib);
  KvmOutcome outcome = run_once(sized, request, devices);
  // Not when the image itself is written (a repair): a second run must not redo half-done work.
  bool image_writable = devices.image != nullptr && devices.image->writable();
  if (sized.memory_mib < options.memory_mib && outcome.wants_more_memory && !image_writable) {
    first_mib = options.memory_mib;
    sized.memory_mib = options.memory_mib;
    outcome = run_once(sized, request, devices);
  }
  return std::move(outcome.result);
}

}  // namespace instar::cli
