// hypercall_handler_fuzzer.cc: a sequence of hypercalls with hostile arguments
// against a real guest memory region and devices (no KVM needed), with writes
// posted in the write-behind slot between them (served by the calls, as without
// an I/O thread). Invariants: the host never touches memory outside the region,
// a failed call changes no device, a result is kept only within the limit, an
// exit ends the sequence, and after any call but a read no posted write is left
// unserved.
#include <unistd.h>

#include <cstring>
#include <vector>

#include "fuzz-targets/fuzz_support.h"
#include "vmm/abi/instar_abi.h"
#include "vmm/hypercall_handler.h"
#include "vmm/write_behind.h"

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
  std::vector<DeviceSlot> devices{DeviceSlot{f->read_only, 8192, false}, DeviceSlot{f->writable, 8192, true}};
  HypercallHandler handler(f->memory, devices, kRecordLimit);
  auto* slot = reinterpret_cast<instar_write_slot*>(f->memory.host_base() + INSTAR_GPA_WRITE_SLOT);
  std::memset(slot, 0, sizeof *slot);
  WriteBehind writes(f->memory, devices, false, false);
  instar::fuzz::InputReader in(instar::ByteSpan(data, size));
  const bool with_slot = in.u8() & 1;
  if (with_slot) handler.set_write_behind(&writes);
  for (int calls = 0; calls < 64 && !in.empty(); calls++) {
    uint8_t op = in.u8();
    if (op >= 0xe0) {
      // A write posted in the slot: plausible or anywhere, as the guest likes.
      slot->request = instar_hc_block_read{static_cast<uint32_t>(in.u8() % 3), 0, in.u16() % 9000u,
                                           in.u16() % 9000u, (in.u8() & 1) ? 0x4000u + in.u16() : in.u64(), 0, 0};
      slot->posted = (in.u8() & 7) ? slot->posted + 1 : in.u32();
      continue;
    }
    uint32_t call = op % (INSTAR_HC_COUNT + 2);
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
    if (outcome.kind != HypercallOutcome::Kind::resume || writes.failed()) break;
    if (with_slot && call != INSTAR_HC_BLOCK_READ) INSTAR_FUZZ_CHECK(writes.idle());
  }
  INSTAR_FUZZ_CHECK(f->read_only_unchanged());
  return 0;
}
