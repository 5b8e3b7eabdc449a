// write_behind.cc: serving the write-behind slot, and its I/O thread.
#include "vmm/write_behind.h"

#include <seccomp.h>
#include <sys/mman.h>

namespace instar::vmm {

namespace {

instar_write_slot* slot_in(const GuestMemory& memory) {
  auto p = memory.checked(INSTAR_GPA_WRITE_SLOT, sizeof(instar_write_slot));
  return p.is_ok() ? reinterpret_cast<instar_write_slot*>(p.value()) : nullptr;
}

// The I/O thread's allowlist: writes to the writable devices, and what waiting and thread exit need.
bool confine_io_thread(const std::vector<DeviceSlot>& devices) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return false;
  bool ok = true;
  for (const DeviceSlot& d : devices)
    if (d.writable)
      ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(pwrite64), 1,
                             SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(d.fd))) == 0;
  // futex and sched_yield: std::atomic's wait and notify; the rest: thread exit (sigaltstack: the
  // sanitizers' runtime takes down the thread's signal stack).
  for (int sys : {SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(exit), SCMP_SYS(rt_sigprocmask),
                  SCMP_SYS(madvise), SCMP_SYS(munmap), SCMP_SYS(sigaltstack)})
    ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys, 0) == 0;
  // ASan's thread exit remaps the thread's shadow memory; never executable.
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) == 0;
  ok = ok && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}

}  // namespace

WriteBehind::WriteBehind(const GuestMemory& memory, const std::vector<DeviceSlot>& devices, bool thread,
                         bool seccomp)
    : slot_(slot_in(memory)), memory_(memory), devices_(devices) {
  if (slot_ == nullptr || !thread) return;
  // Not waited for: a thread that cannot confine itself serves nothing, and the posted writes are then
  // served by whoever waits for them (wait_idle), so the slot works either way.
  thread_ = std::thread([this, seccomp] { run(seccomp); });
}

WriteBehind::~WriteBehind() { stop(); }

void WriteBehind::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_acq_rel);
  wake_.notify_one();
  thread_.join();
}

void WriteBehind::kick() {
  if (slot_ == nullptr || !thread_.joinable()) return;
  if (__atomic_load_n(&slot_->posted, __ATOMIC_ACQUIRE) == claimed_.load(std::memory_order_acquire)) return;
  wake_.fetch_add(1, std::memory_order_acq_rel);
  wake_.notify_one();
}

bool WriteBehind::serve_posted() {
  if (slot_ == nullptr) return false;
  uint32_t posted = __atomic_load_n(&slot_->posted, __ATOMIC_ACQUIRE);
  uint32_t claimed = claimed_.load(std::memory_order_acquire);
  if (posted == claimed) return false;
  // Counted busy before the claim, so that a waiter who sees the claim also sees it in flight.
  busy_.fetch_add(1, std::memory_order_acq_rel);
  if (!claimed_.compare_exchange_strong(claimed, posted, std::memory_order_acq_rel)) {
    if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) busy_.notify_all();
    return false;
  }
  __atomic_store_n(&slot_->claimed, posted, __ATOMIC_RELEASE);
  // One copy of the request: the guest may change the slot meanwhile; only the copy counts.
  instar_hc_block_read request;
  __builtin_memcpy(&request, &slot_->request, sizeof request);
  BlockIoAnswer answer = perform_block_io(memory_, devices_, request, true);
  if (!answer.fatal.empty()) {
    std::lock_guard<std::mutex> lock(failure_mutex_);
    if (failure_.empty()) failure_ = answer.fatal;
    failed_.store(true, std::memory_order_release);
  }
  __atomic_store_n(&slot_->request.status, answer.status, __ATOMIC_RELAXED);
  __atomic_store_n(&slot_->served, posted, __ATOMIC_RELEASE);
  if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) busy_.notify_all();
  return true;
}

bool WriteBehind::idle() const {
  if (slot_ == nullptr) return true;
  return busy_.load(std::memory_order_acquire) == 0 &&
         __atomic_load_n(&slot_->posted, __ATOMIC_ACQUIRE) == claimed_.load(std::memory_order_acquire);
}

void WriteBehind::wait_idle() {
  serve_posted();
  for (uint32_t busy = busy_.load(std::memory_order_acquire); busy != 0; busy = busy_.load(std::memory_order_acquire))
    busy_.wait(busy, std::memory_order_acquire);
}

std::string WriteBehind::failure() const {
  std::lock_guard<std::mutex> lock(failure_mutex_);
  return failure_;
}

void WriteBehind::run(bool seccomp) {
  if (seccomp && !confine_io_thread(devices_)) return;
  uint32_t seen = wake_.load(std::memory_order_acquire);
  while (!stop_.load(std::memory_order_acquire)) {
    serve_posted();
    wake_.wait(seen, std::memory_order_acquire);
    seen = wake_.load(std::memory_order_acquire);
  }
}

}  // namespace instar::vmm
