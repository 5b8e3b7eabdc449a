// hypercall_handler_fuzzer.cc: a sequence of hypercalls with hostile arguments
// against a real guest memory region and devices (no KVM needed). Invariants:
// the host never touches memory outside the region, a failed call changes no
// device, a result is kept only within the limit, and an exit ends the sequence.
#include <unistd.h>

#include <cstring>
#include <vector>

#include "fuzz-targets/fuzz_support.h"
#include "vmm/abi/instar_abi.h"
#include "vmm/hypercall_handler.h"

namespace {

constexpr uint64_t kMemory = 16ull << 20;
constexpr uint64_t kRecordLimit = 1 << 16;

struct Fixture {
  instar::vmm::GuestMemory memory;
  int read_only = -1, writable = -1;
  std::vector<uint8_t> device_content = std::vector<uint8_t>(8192, 0xa5);

  Fixture() {
    if (memory.allocate(kMemory).is_error()) __builtin_trap();
    read_only = make_device();
    writable = make_device();
  }
  int make_device() {
    char path[] = "/tmp/instar-fuzz-hc-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) __builtin_trap();
    unlink(path);
    if (write(fd, device_content.data(), device_content.size()) !=
        static_cast<ssize_t>(device_content.size()))
      __builtin_trap();
    return fd;
  }
  bool read_only_unchanged() {
    std::vector<uint8_t> now(device_content.size());
    return pread(read_only, now.data(), now.size(), 0) == static_cast<ssize_t>(now.size()) &&
           now == device_content;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  static Fixture* f = new Fixture();
  using namespace instar::vmm;
  HypercallHandler handler(
      f->memory, {DeviceSlot{f->read_only, 8192, false}, DeviceSlot{f->writable, 8192, true}}, kRecordLimit);
  instar::fuzz::InputReader in(instar::ByteSpan(data, size));
  for (int calls = 0; calls < 64 && !in.empty(); calls++) {
    uint32_t call = in.u8() % (INSTAR_HC_COUNT + 2);
    // The argument struct: sometimes at a plausible place filled from the input, sometimes anywhere.
    uint64_t gpa = (in.u8() & 1) ? 0x2000 + (in.u16() % 0x1000) : in.u64();
    if (gpa >= 0x1000 && gpa <= kMemory - 64) {
      uint8_t arg[64];
      for (uint8_t& b : arg) b = in.u8();
      std::memcpy(f->memory.host_base() + gpa, arg, sizeof arg);
    }
    HypercallOutcome outcome = handler.handle(call, gpa);
    if (handler.has_result()) INSTAR_FUZZ_CHECK(handler.result().size() <= kRecordLimit);
    if (outcome.kind == HypercallOutcome::Kind::fail) INSTAR_FUZZ_CHECK(!outcome.error.empty());
    if (outcome.kind != HypercallOutcome::Kind::resume) break;
  }
  INSTAR_FUZZ_CHECK(f->read_only_unchanged());
  return 0;
}
