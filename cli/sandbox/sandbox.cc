// sandbox.cc: choosing a sandbox and the in-process (`none`) run.
#include "cli/sandbox/sandbox.h"

#include <memory>

namespace instar::cli {

std::optional<SandboxKind> parse_sandbox_kind(const std::string& text) {
  if (text == "auto") return SandboxKind::automatic;
  if (text == "kvm") return SandboxKind::kvm;
  if (text == "process") return SandboxKind::process;
  if (text == "none") return SandboxKind::none;
  return std::nullopt;
}

const char* sandbox_kind_name(SandboxKind kind) {
  switch (kind) {
    case SandboxKind::automatic:
      return "auto";
    case SandboxKind::kvm:
      return "kvm";
    case SandboxKind::process:
      return "process";
    case SandboxKind::none:
      return "none";
  }
  return "?";
}

SandboxKind resolve_sandbox(SandboxKind kind) {
  if (kind != SandboxKind::automatic) return kind;
  return kvm_sandbox_available() ? SandboxKind::kvm : SandboxKind::process;
}

CoreMemory core_memory(const SandboxOptions& options) {
  // A quarter for the record (qemu's largest tables fit), the rest for scratch.
  size_t total = static_cast<size_t>(options.memory_mib) << 20;
  size_t record = total / 4;
  if (record > kMaxRecordSize) record = kMaxRecordSize;
  return CoreMemory{total - record, record};
}

Result<void> run_in_process(const Request& request, const Devices& devices, uint8_t* scratch,
                            size_t scratch_size, RecordWriter& writer) {
  Arena arena(scratch, scratch_size);
  return execute(request, devices, arena, writer);
}

Result<DecodedRecord> run_sandboxed(const SandboxOptions& options, const Request& request,
                                    const HostDevices& devices) {
  switch (resolve_sandbox(options.kind)) {
    case SandboxKind::kvm:
      return run_kvm_sandbox(options, request, devices);
    case SandboxKind::process:
      return run_process_sandbox(options, request, devices);
    default: {
      CoreMemory memory = core_memory(options);
      // Uninitialised on purpose: untouched pages cost nothing.
      std::unique_ptr<uint8_t[]> scratch(new uint8_t[memory.scratch]);
      std::unique_ptr<uint8_t[]> record(new uint8_t[memory.record]);
      RecordWriter writer(record.get(), memory.record);
      INSTAR_TRY(run_in_process(request, devices.core(), scratch.get(), memory.scratch, writer));
      return decode_record(ByteSpan(writer.data(), writer.size()));
    }
  }
}

}  // namespace instar::cli
