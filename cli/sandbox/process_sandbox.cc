// process_sandbox.cc: core/ in a forked child confined by seccomp-bpf and rlimits;
// the record comes back over a pipe and is decoded as hostile input.
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "cli/sandbox/sandbox.h"

namespace instar::cli {

namespace {

// Exit statuses of the child, read by the parent.
constexpr int kChildOk = 0;
constexpr int kChildSetupFailed = 120;
constexpr int kChildCoreFailed = 121;

bool write_all(int fd, const void* data, size_t length) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (length > 0) {
    ssize_t n = ::write(fd, p, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    length -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

// The allowlist: reads of the image devices, writes to the result pipe, exit,
// and the little memory management the C runtime may still do.
bool install_process_seccomp(const std::vector<int>& read_fds, const std::vector<int>& write_fds, int result_fd) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return false;
  bool ok = true;
  for (int fd : read_fds) {
    ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(pread64), 1, SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(fd))) == 0;
    // SEEK_DATA / SEEK_HOLE: where the file has holes.
    ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(lseek), 1, SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(fd))) == 0;
  }
  // Outputs: reads, writes, holes and zero ranges, growing the file, its size.
  for (int fd : write_fds) {
    for (int sys : {SCMP_SYS(pread64), SCMP_SYS(lseek), SCMP_SYS(pwrite64), SCMP_SYS(fallocate), SCMP_SYS(ftruncate),
                    SCMP_SYS(fstat), SCMP_SYS(newfstatat)})
      ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys, 1, SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(fd))) == 0;
  }
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(result_fd))) == 0;
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0) == 0;
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0) == 0;
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rt_sigreturn), 0) == 0;
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(brk), 0) == 0;
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(munmap), 0) == 0;
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(madvise), 0) == 0;
  // Sanitizer runtimes query the alternate signal stack; harmless.
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 0) == 0;
  // mmap for anonymous memory only, never executable.
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
                         SCMP_A4(SCMP_CMP_EQ, static_cast<scmp_datum_t>(-1))) == 0;
  ok &= ok && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}

namespace {

[[noreturn]] void child_main(const SandboxOptions& options, const Request& request,
                             const HostDevices& devices, int result_fd) {
  CoreMemory memory = core_memory(options);
  void* scratch = mmap(nullptr, memory.scratch, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void* record = mmap(nullptr, memory.record, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (scratch == MAP_FAILED || record == MAP_FAILED) _exit(kChildSetupFailed);
  // CPU seconds as a backstop to the parent's wall-clock limit; no file may
  // grow beyond the size the host gave its outputs.
  rlim_t cpu = options.timeout_ms / 1000 + 1;
  struct rlimit cpu_limit = {cpu, cpu + 1};
  struct rlimit no_growth = {0, 0};
  rlim_t largest_output = 0;
  if (devices.image != nullptr && devices.image->writable()) largest_output = devices.image->size();
  for (FileBlockDevice* d : devices.attached)
    if (d->writable() && d->size() > largest_output) largest_output = d->size();
  struct rlimit output_size = {largest_output, largest_output};
  if (setrlimit(RLIMIT_CPU, &cpu_limit) != 0 || setrlimit(RLIMIT_FSIZE, &output_size) != 0 ||
      setrlimit(RLIMIT_NOFILE, &no_growth) != 0)
    _exit(kChildSetupFailed);
  if (!install_process_seccomp(devices.read_only_fds(), devices.writable_fds(), result_fd)) _exit(kChildSetupFailed);

  RecordWriter writer(static_cast<uint8_t*>(record), memory.record);
  Result<void> done =
      run_in_process(request, devices.core(), static_cast<uint8_t*>(scratch), memory.scratch, writer);
  if (done.is_error()) _exit(kChildCoreFailed);
  uint64_t size = writer.size();
  if (!write_all(result_fd, &size, sizeof size) || !write_all(result_fd, writer.data(), writer.size()))
    _exit(kChildSetupFailed);
  _exit(kChildOk);
}

std::string describe_child_end(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGSYS) return "sandbox: the parser made a forbidden system call and was killed";
    if (sig == SIGXCPU) return "sandbox: the parser ran out of CPU time";
    return "sandbox: the parser was killed by signal " + std::to_string(sig);
  }
  if (WIFEXITED(status)) {
    switch (WEXITSTATUS(status)) {
      case kChildSetupFailed:
        return "sandbox: the parser process could not be set up";
      case kChildCoreFailed:
        return "sandbox: the parser's result did not fit its record";
      default:
        return "sandbox: the parser exited with status " + std::to_string(WEXITSTATUS(status));
    }
  }
  return "sandbox: the parser ended abnormally";
}

}  // namespace

Result<DecodedRecord> run_process_sandbox(const SandboxOptions& options, const Request& request,
                                          const HostDevices& devices) {
  static std::string message;  // Error messages are static text; this one is built per failure.
  auto fail = [](std::string text) {
    message = std::move(text);
    return make_error(Errc::io, message.c_str());
  };
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return fail("sandbox: cannot create a pipe");
  CoreMemory memory = core_memory(options);
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return fail("sandbox: cannot fork");
  }
  if (pid == 0) {
    close(pipefd[0]);
    child_main(options, request, devices, pipefd[1]);
  }
  close(pipefd[1]);

  // Read the length-prefixed record, bounded, until EOF or the deadline.
  std::vector<uint8_t> bytes;
  const size_t limit = sizeof(uint64_t) + memory.record;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  bool timed_out = false, too_large = false;
  uint8_t buf[65536];
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pfd = {pipefd[0], POLLIN, 0};
    int r = poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      timed_out = true;
      break;
    }
    ssize_t n = read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (bytes.size() + static_cast<size_t>(n) > limit) {
      too_large = true;
      break;
    }
    bytes.insert(bytes.end(), buf, buf + n);
  }
  close(pipefd[0]);
  if (timed_out || too_large) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return fail("sandbox: the parser did not finish within " + std::to_string(options.timeout_ms) + " ms");
  if (too_large) return fail("sandbox: the parser's result record is larger than allowed");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != kChildOk) return fail(describe_child_end(status));
  uint64_t size = 0;
  if (bytes.size() < sizeof size) return fail("sandbox: the parser returned no result record");
  for (size_t i = 0; i < sizeof size; i++) size |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  if (size != bytes.size() - sizeof size)
    return fail("sandbox: the parser's result record has the wrong length");
  return decode_record(ByteSpan(bytes.data() + sizeof size, bytes.size() - sizeof size));
}

}  // namespace instar::cli
