// write_behind.h: the host side of the write-behind slot (struct instar_write_slot). A block write
// the guest posts there is performed by a host I/O thread while the guest goes on (convert reads its
// next chunk while the last one is written, as qemu-img's coroutines overlap them), without the VM
// exit and return that a hypercall costs (~40 us under kvm_pvm). The I/O thread is woken at the
// guest's next exit; a write nobody has taken by then is served by whoever waits for it. Every
// hypercall but a read of a read-only device waits for the posted write first, so the guest's calls
// keep their order.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vmm/hypercall_handler.h"

namespace instar::vmm {

class WriteBehind {
 public:
  // `memory` holds the slot at INSTAR_GPA_WRITE_SLOT; it and `devices` outlive this object. With
  // `thread`, an I/O thread is started; it confines itself with its own seccomp allowlist (when
  // `seccomp`) before it touches guest memory, and serves nothing if it cannot. Without one (tests,
  // or a thread that could not confine itself), waiters serve the slot.
  WriteBehind(const GuestMemory& memory, const std::vector<DeviceSlot>& devices, bool thread, bool seccomp);
  ~WriteBehind();  // stops and joins the thread

  // Whether the slot can be offered to the guest (its page is guest memory).
  bool started() const { return slot_ != nullptr; }
  // Called at every exit: hands a posted write to the I/O thread.
  void kick();
  // Serves the posted write if nobody has taken it, then waits until nothing is in flight.
  void wait_idle();
  // Serves the posted write if nobody has taken it: copies the request once, checks and performs it
  // (perform_block_io), stores its status, then `served`. True when it served one.
  bool serve_posted();
  // True when nothing posted is waiting or being served.
  bool idle() const;
  // Ends the thread; what it took is finished first.
  void stop();

  // Set once the guest posted a buffer outside its memory: the run fails.
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  std::string failure() const;

 private:
  void run(bool seccomp);

  instar_write_slot* slot_;
  const GuestMemory& memory_;
  const std::vector<DeviceSlot>& devices_;
  std::atomic<uint32_t> claimed_{0};
  std::atomic<uint32_t> busy_{0};  // writes taken and not yet served
  std::atomic<uint32_t> wake_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  mutable std::mutex failure_mutex_;
  std::string failure_;
  std::thread thread_;
};

}  // namespace instar::vmm
