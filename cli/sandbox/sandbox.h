// sandbox.h: where core/ runs: in a KVM guest, in a seccomp-confined child
// process, or in-process. The host side of every choice is here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/io/file_block_device.h"
#include "cli/record_decoder.h"
#include "core/ops/execute.h"

namespace instar::cli {

enum class SandboxKind { automatic, kvm, process, none };

struct SandboxOptions {
  SandboxKind kind = SandboxKind::automatic;
  uint32_t timeout_ms = 30000;  // wall clock for one run of core/
  uint64_t memory_mib = 512;    // what core/ may use (scratch arena + result record)
};

// Parses "auto", "kvm", "process" or "none".
std::optional<SandboxKind> parse_sandbox_kind(const std::string& text);
const char* sandbox_kind_name(SandboxKind kind);

// The files the host opened for one run. Inputs are read-only; an output is
// writable, and so is the image of an in-place repair (check -r); none may grow.
struct HostDevices {
  FileBlockDevice* image = nullptr;
  // Device n + 1: backing and data files, in request.attached order (no gaps).
  std::vector<FileBlockDevice*> attached;

  Devices core() const {
    Devices d{image};
    for (size_t i = 0; i < attached.size() && i < kMaxAttached; i++) d.attached[i] = attached[i];
    return d;
  }
  std::vector<int> read_only_fds() const {
    std::vector<int> fds;
    if (image && !image->writable()) fds.push_back(image->fd());
    for (FileBlockDevice* d : attached)
      if (!d->writable()) fds.push_back(d->fd());
    return fds;
  }
  std::vector<int> writable_fds() const {
    std::vector<int> fds;
    if (image && image->writable()) fds.push_back(image->fd());
    for (FileBlockDevice* d : attached)
      if (d->writable()) fds.push_back(d->fd());
    return fds;
  }
};

// `auto` resolves to kvm where /dev/kvm works and the guest is available, else
// process; it never resolves to none.
SandboxKind resolve_sandbox(SandboxKind kind);

// Runs the request under the sandbox and decodes the record it returns. A
// sandbox failure (timeout, crash, violation, malformed record) is an error
// whose message says so in one line.
Result<DecodedRecord> run_sandboxed(const SandboxOptions& options, const Request& request,
                                    const HostDevices& devices);

// The in-process run, shared by `none` and the process child.
Result<void> run_in_process(const Request& request, const Devices& devices, uint8_t* scratch,
                            size_t scratch_size, RecordWriter& writer);

// Sizes of the two memory areas core/ gets for a memory budget.
struct CoreMemory {
  size_t scratch;
  size_t record;
};
CoreMemory core_memory(const SandboxOptions& options);

Result<DecodedRecord> run_process_sandbox(const SandboxOptions& options, const Request& request,
                                          const HostDevices& devices);
Result<DecodedRecord> run_kvm_sandbox(const SandboxOptions& options, const Request& request,
                                      const HostDevices& devices);
bool kvm_sandbox_available();

// The process sandbox's seccomp-bpf allowlist (exposed for its tests).
bool install_process_seccomp(const std::vector<int>& read_fds, const std::vector<int>& write_fds, int result_fd);

}  // namespace instar::cli
