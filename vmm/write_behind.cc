// write_behind.cc: one writer thread, a bounded FIFO, a sticky failure flag.
#include "vmm/write_behind.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace instar::vmm {

namespace {

// The writer thread's filter: writes to the writable devices and what a thread needs to wait and end.
bool confine_writer(const std::vector<int>& fds) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return false;
  bool ok = true;
  for (int fd : fds)
    ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(pwrite64), 1,
                           SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(fd))) == 0;
  for (int sys : {SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
                  SCMP_SYS(rt_sigprocmask), SCMP_SYS(madvise), SCMP_SYS(munmap), SCMP_SYS(brk),
                  SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield)})
    ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys, 0) == 0;
  // Anonymous memory for the allocator (and sanitizer runtimes), never executable.
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) == 0;
  ok = ok && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}

bool write_all(const WriteBehind::Entry& e) {
  const uint8_t* p = e.data;
  uint64_t offset = e.offset, left = e.length;
  while (left > 0) {
    ssize_t n = pwrite(e.fd, p, left, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    offset += static_cast<uint64_t>(n);
    left -= static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

WriteBehind::WriteBehind(std::vector<int> writable_fds, bool confine) : fds_(std::move(writable_fds)) {
  thread_ = std::thread([this, confine] { run(confine); });
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return ready_; });
}

WriteBehind::~WriteBehind() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void WriteBehind::run(bool confine) {
  bool confined = !confine || confine_writer(fds_);
  std::unique_lock<std::mutex> lock(mutex_);
  ready_ = true;
  running_ = confined;
  done_.notify_all();
  if (!confined) return;
  for (;;) {
    // Finish the queue before stopping: the destructor waits for every lent write.
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;
    Entry e = queue_.front();
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    bool ok = write_all(e);
    lock.lock();
    busy_ = false;
    if (!ok) failed_ = true;
    done_.notify_all();
  }
}

void WriteBehind::push(const Entry& entry) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return queue_.size() < kMaxQueued; });
    queue_.push_back(entry);
  }
  wake_.notify_one();
}

void WriteBehind::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

bool WriteBehind::idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  return queue_.empty() && !busy_;
}

bool WriteBehind::take_failure() {
  std::unique_lock<std::mutex> lock(mutex_);
  bool f = failed_;
  failed_ = false;
  return f;
}

}  // namespace instar::vmm
