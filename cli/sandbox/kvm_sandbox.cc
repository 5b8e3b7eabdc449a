// kvm_sandbox.cc: core/ inside a KVM guest. The guest and monitor are not
// built yet (issue: hardened execution), so kvm is never chosen by auto and
// asking for it is refused with a clear message.
#include "cli/sandbox/sandbox.h"

namespace instar::cli {

bool kvm_sandbox_available() { return false; }

Result<DecodedRecord> run_kvm_sandbox(const SandboxOptions&, const Request&, const HostDevices&) {
  return make_error(Errc::unsupported, "sandbox: the kvm sandbox is not built into this instar yet");
}

}  // namespace instar::cli
