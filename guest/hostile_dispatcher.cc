// hostile_dispatcher.cc: a guest built only for tests: request byte 0 picks a
// misbehaviour, so the monitor's containment can be checked against real guest code.
#include "core/base/arena.h"
#include "guest/hypercall.h"

namespace instar::guest {
namespace {

// Exit statuses the tests expect when the guest itself sees the error.
constexpr uint32_t kSawError = 10;
constexpr uint32_t kMissedError = 11;

enum Scenario : uint8_t {
  kInfiniteLoop = 0,
  kInvalidOpcode = 1,
  kNullRead = 2,
  kGeneralProtection = 3,
  kTripleFault = 4,
  kArgumentOutsideMemory = 5,
  kBufferLengthOverflow = 6,
  kOversizedResult = 7,
  kReadPastEnd = 8,
  kWriteReadOnly = 9,
  kArenaExhausted = 10,
  kUnknownPort = 11,
  kHaltWithoutExit = 12,
  kPostedBufferOutsideMemory = 13,
  kPostedWriteReadOnly = 14,
};

// Posts a write in the write-behind slot and waits for it by hypercall.
int32_t post_and_wait(const instar_hc_block_read& request) {
  auto* slot = reinterpret_cast<instar_write_slot*>(INSTAR_GPA_WRITE_SLOT);
  if (slot->available != 1) guest_exit(kMissedError);
  slot->request = request;
  __atomic_store_n(&slot->posted, slot->posted + 1, __ATOMIC_RELEASE);
  hypercall(INSTAR_HC_WRITE_WAIT, slot);
  return slot->request.status;
}


[[noreturn]] void run() {
  auto* boot = reinterpret_cast<volatile instar_boot_info*>(INSTAR_GPA_BOOT_INFO);
  switch (boot->request[0]) {
    case kInfiniteLoop:
      for (;;) asm volatile("" ::: "memory");
    case kInvalidOpcode:
      asm volatile("ud2");
      break;
    case kNullRead: {
      volatile uint64_t* null = nullptr;
      asm volatile("" : "+r"(null));
      (void)*null;
      break;
    }
    case kGeneralProtection: {
      volatile uint64_t* noncanonical = reinterpret_cast<uint64_t*>(0x8000000000000000ull);
      (void)*noncanonical;
      break;
    }
    case kTripleFault: {
      // Ring 3 cannot lidt, but the gates are guest memory: without them #UD
      // becomes #NP, then #DF, then a shutdown.
      volatile uint8_t* idt = reinterpret_cast<volatile uint8_t*>(INSTAR_GPA_IDT);
      for (size_t i = 0; i < 32 * 16; i++) idt[i] = 0;
      asm volatile("ud2");
      break;
    }
    case kArgumentOutsideMemory:
      hypercall(INSTAR_HC_DEVICE_SIZE, reinterpret_cast<void*>(0xfffff000u));
      break;
    case kBufferLengthOverflow: {
      // A buffer whose end wraps around the address space.
      instar_hc_block_read arg{0, 0, 0, 16, ~uint64_t{0} - 4, 0, 0};
      hypercall(INSTAR_HC_BLOCK_READ, &arg);
      break;
    }
    case kOversizedResult: {
      instar_hc_result arg{0x200000, 1ull << 40, 0, 0};
      hypercall(INSTAR_HC_RESULT, &arg);
      break;
    }
    case kReadPastEnd: {
      static uint8_t buffer[4096];
      instar_hc_device_size size{0, 0, 0, 0, 0};
      hypercall(INSTAR_HC_DEVICE_SIZE, &size);
      instar_hc_block_read arg{0, 0, size.size - 10, 100, reinterpret_cast<uint64_t>(buffer), 0, 0};
      hypercall(INSTAR_HC_BLOCK_READ, &arg);
      guest_exit(arg.status == INSTAR_HC_EIO ? kSawError : kMissedError);
    }
    case kWriteReadOnly: {
      static uint8_t buffer[16] = {1, 2, 3};
      instar_hc_block_write arg{0, 0, 0, sizeof buffer, reinterpret_cast<uint64_t>(buffer), 0, 0};
      hypercall(INSTAR_HC_BLOCK_WRITE, &arg);
      guest_exit(arg.status == INSTAR_HC_EPERM ? kSawError : kMissedError);
    }
    case kArenaExhausted: {
      static uint8_t small[4096];
      Arena arena(small, sizeof small);
      guest_exit(arena.allocate(1ull << 30).is_error() ? kSawError : kMissedError);
    }
    case kUnknownPort: {
      uint32_t value = 0x2000;
      asm volatile("outl %0, %1" : : "a"(value), "d"(static_cast<uint16_t>(INSTAR_HC_PORT_BASE + 50)));
      break;
    }
    case kHaltWithoutExit:
      asm volatile("cli; hlt");
      break;
    case kPostedBufferOutsideMemory:
      post_and_wait(instar_hc_block_read{1, 0, 0, 4096, 0xfffff000u, 0, 0});  // device 1: a writable output
      break;
    case kPostedWriteReadOnly: {
      static uint8_t buffer[16] = {1, 2, 3};
      int32_t status = post_and_wait(instar_hc_block_read{0, 0, 0, sizeof buffer, reinterpret_cast<uint64_t>(buffer), 0, 0});
      guest_exit(status == INSTAR_HC_EPERM ? kSawError : kMissedError);
    }
  }
  guest_exit(kMissedError);
}

}  // namespace
}  // namespace instar::guest

extern "C" [[noreturn]] void guest_main() { instar::guest::run(); }
