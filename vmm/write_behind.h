// write_behind.h: the monitor's writer thread. A write the guest lends (INSTAR_WRITE_BEHIND) is queued
// here and the vCPU runs on, so that the guest's next read overlaps this write, as qemu-img's
// coroutines overlap theirs. Each entry was checked by the hypercall handler (device writable, range
// inside the device, buffer inside guest memory) before it was queued; this class only performs it.
//
// The thread confines itself with its own seccomp filter (pwrite64 on the writable devices, futex,
// exit) before it takes its first entry: it is created before the vCPU thread's filter, so it does
// not inherit that one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace instar::vmm {

class WriteBehind {
 public:
  struct Entry {
    int fd = -1;
    const uint8_t* data = nullptr;  // inside guest memory, which outlives this object
    uint64_t offset = 0;
    uint64_t length = 0;
  };

  // `writable_fds`: the only descriptors the thread may write. `confine`: install the thread's
  // seccomp filter (off in unit tests and fuzzing, which run without one).
  WriteBehind(std::vector<int> writable_fds, bool confine);
  ~WriteBehind();  // waits for every queued write
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // Queues a write; blocks while kMaxQueued entries wait (a guest cannot make the host queue grow).
  void push(const Entry& entry);
  // Waits until the queue is empty and the thread idle.
  void drain();
  bool idle();
  // Whether a queued write failed since the last take_failure(); clears it.
  bool take_failure();
  // Whether the thread is there to take writes: false when it could not confine itself (it then
  // exited at once, and the handler performs lent writes synchronously).
  bool running() const { return running_; }

  static constexpr size_t kMaxQueued = 64;

 private:
  void run(bool confine);

  std::vector<int> fds_;
  std::mutex mutex_;
  std::condition_variable wake_;   // the thread: work or stop
  std::condition_variable done_;   // the vCPU: space or idle
  std::deque<Entry> queue_;
  bool busy_ = false;
  bool stop_ = false;
  bool failed_ = false;
  bool ready_ = false;    // the thread finished starting (confined, or gave up)
  bool running_ = false;  // it confined itself and takes entries
  std::thread thread_;
};

}  // namespace instar::vmm
