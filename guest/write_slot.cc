// write_slot.cc: posting to the write-behind slot and waiting for its answer.
#include "guest/write_slot.h"

#include "guest/hypercall.h"

namespace instar::guest {

namespace {

// While the host's I/O thread is performing the write (it has claimed it) the guest spins: the
// answer is due within the write's time, and a hypercall costs a VM exit and return. It spins at
// most this many `pause`s (milliseconds), and not at all for a write nobody has claimed: the I/O
// thread is woken only by an exit, so the WRITE_WAIT hypercall serves that write itself.
constexpr uint64_t kAnswerSpins = uint64_t{1} << 20;

auto* const slot = reinterpret_cast<instar_write_slot*>(INSTAR_GPA_WRITE_SLOT);
uint32_t last_posted = 0;
bool busy = false;

}  // namespace

bool write_slot_available() { return __atomic_load_n(&slot->available, __ATOMIC_RELAXED) == 1; }

bool write_slot_busy() { return busy; }

void write_slot_post(const instar_hc_block_read& request) {
  slot->request = request;
  __atomic_store_n(&slot->posted, ++last_posted, __ATOMIC_RELEASE);
  busy = true;
}

int32_t write_slot_wait() {
  if (!busy) return INSTAR_HC_OK;
  busy = false;
  for (uint64_t spins = 0; __atomic_load_n(&slot->served, __ATOMIC_ACQUIRE) != last_posted; spins++) {
    if (__atomic_load_n(&slot->claimed, __ATOMIC_ACQUIRE) != last_posted || spins >= kAnswerSpins) {
      hypercall(INSTAR_HC_WRITE_WAIT, slot);  // returns once the posted write is served
      break;
    }
    __builtin_ia32_pause();
  }
  return __atomic_load_n(&slot->request.status, __ATOMIC_ACQUIRE);
}

}  // namespace instar::guest
