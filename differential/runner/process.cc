// process.cc: fork/exec with pipes, poll-driven capture, a deadline and process-group kill.
#include "differential/runner/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

extern char** environ;

namespace instar::diff {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.fd = fds[0];
  write_end.fd = fds[1];
  return true;
}

// The child's environment: ours, with spec.env replacing or adding variables.
// A variable set twice in spec.env takes its last value.
std::vector<std::string> build_environment(const ProcessSpec& spec) {
  std::vector<std::pair<std::string, std::string>> overrides;
  for (const auto& entry : spec.env) {
    auto it = std::find_if(overrides.begin(), overrides.end(),
                           [&](const auto& kv) { return kv.first == entry.first; });
    if (it == overrides.end()) {
      overrides.push_back(entry);
    } else {
      it->second = entry.second;
    }
  }
  std::vector<std::string> env;
  for (char** e = environ; e && *e; e++) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& kv : overrides) overridden = overridden || kv.first == name;
    if (!overridden) env.emplace_back(entry);
  }
  for (const auto& [key, value] : overrides) env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const char* executable, char* const* argv, char* const* envp, const char* cwd,
                             int in, int out, int err, int status) {
  setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &default_action, nullptr);  // an ignored signal would stay ignored across exec
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
    int e = errno;
    (void)!write(status, &e, sizeof e);
    _exit(127);
  }
  if (cwd[0] != '\0' && chdir(cwd) != 0) {
    int e = errno;
    (void)!write(status, &e, sizeof e);
    _exit(127);
  }
  execve(executable, argv, envp);
  int e = errno;
  (void)!write(status, &e, sizeof e);
  _exit(127);
}

void append_limited(std::string& sink, const char* data, size_t n, size_t limit, bool& truncated) {
  size_t room = sink.size() < limit ? limit - sink.size() : 0;
  if (n > room) truncated = true;
  sink.append(data, std::min(n, room));
}

}  // namespace

ProcessResult run_process(const ProcessSpec& spec) {
  ProcessResult result;
  if (spec.argv.empty()) {
    result.start_error = "empty argv";
    return result;
  }
  std::vector<std::string> argv_storage = spec.argv;
  std::vector<std::string> env_storage = build_environment(spec);
  std::vector<char*> argv = c_strings(argv_storage);
  std::vector<char*> envp = c_strings(env_storage);
  std::string executable = spec.executable.string();
  std::string cwd = spec.cwd.string();

  Fd null_in(open("/dev/null", O_RDONLY | O_CLOEXEC));
  Fd out_read, out_write, err_read, err_write, status_read, status_write;
  if (null_in.fd < 0 || !make_pipe(out_read, out_write) || !make_pipe(err_read, err_write) ||
      !make_pipe(status_read, status_write)) {
    result.start_error = std::string("cannot set up pipes: ") + strerror(errno);
    return result;
  }

  pid_t pid = fork();
  if (pid < 0) {
    result.start_error = std::string("fork failed: ") + strerror(errno);
    return result;
  }
  if (pid == 0) {
    exec_child(executable.c_str(), argv.data(), envp.data(), cwd.c_str(), null_in.fd, out_write.fd,
               err_write.fd, status_write.fd);
  }
  setpgid(pid, pid);  // also done by the child; whichever runs first wins the race
  out_write.reset();
  err_write.reset();
  status_write.reset();

  int exec_errno = 0;
  ssize_t got = read(status_read.fd, &exec_errno, sizeof exec_errno);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    waitpid(pid, nullptr, 0);
    result.start_error = executable + ": " + strerror(exec_errno);
    return result;
  }

  const auto deadline = Clock::now() + spec.timeout;
  bool timed_out = false;
  bool leader_exited = false;
  char buffer[65536];
  // The leader is only reaped after its group is killed, so the group id cannot be reused meanwhile.
  auto check_leader = [&] {
    siginfo_t info{};
    if (!leader_exited && waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      leader_exited = true;
      kill(-pid, SIGKILL);  // stragglers would hold the pipes open
    }
  };
  while (out_read.fd >= 0 || err_read.fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2];
    nfds_t n = 0;
    Fd* owners[2];
    for (Fd* f : {&out_read, &err_read}) {
      if (f->fd < 0) continue;
      fds[n] = pollfd{f->fd, POLLIN, 0};
      owners[n++] = f;
    }
    int ready = poll(fds, n, static_cast<int>(std::min<int64_t>(left.count(), 50)));
    if (ready < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n && ready > 0; i++) {
      if (fds[i].revents == 0) continue;
      ssize_t r = read(owners[i]->fd, buffer, sizeof buffer);
      if (r > 0) {
        std::string& sink = owners[i] == &out_read ? result.out : result.err;
        append_limited(sink, buffer, static_cast<size_t>(r), spec.output_limit, result.output_truncated);
      } else if (r == 0 || errno != EINTR) {
        owners[i]->reset();
      }
    }
    check_leader();
  }
  while (!timed_out && !leader_exited) {
    check_leader();
    if (leader_exited) break;
    if (Clock::now() >= deadline) {
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    result.ending = ProcessResult::Ending::timed_out;
    result.timed_out_after = spec.timeout;
    return result;
  }
  if (WIFEXITED(status)) {
    result.ending = ProcessResult::Ending::exited;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.ending = ProcessResult::Ending::signalled;
    result.code = WTERMSIG(status);
  }
  return result;
}

std::string path_with_first(const std::filesystem::path& dir) {
  const char* path = getenv("PATH");
  return dir.string() + ":" + (path != nullptr ? path : "/usr/bin:/bin");
}

std::string describe_ending(const ProcessResult& result) {
  switch (result.ending) {
    case ProcessResult::Ending::exited:
      return "exit " + std::to_string(result.code);
    case ProcessResult::Ending::signalled:
      return "killed by signal " + std::to_string(result.code) + " (" + strsignal(result.code) + ")";
    case ProcessResult::Ending::timed_out: {
      auto ms = result.timed_out_after.count();
      std::string limit = ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
      return "timed out after " + limit;
    }
    case ProcessResult::Ending::not_started:
      return "could not start: " + result.start_error;
  }
  return "?";
}

}  // namespace instar::diff
