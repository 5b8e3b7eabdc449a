#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "cli/io/open_image.h"
#include "cli/sandbox/sandbox.h"
#include "core/ops/info_record.h"

namespace instar::cli {
namespace {

// Runs `body` in a child after installing the filter; returns the child's wait status.
template <typename Body>
int run_confined(int read_fd, int write_fd, Body body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!install_process_seccomp({read_fd}, {}, write_fd)) _exit(99);
    body();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(ProcessSeccomp, AllowsReadingTheDeviceAndWritingTheResult) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  int dev = open("/proc/self/exe", O_RDONLY);
  int status = run_confined(dev, fds[1], [&] {
    char b;
    if (pread(dev, &b, 1, 0) != 1 || write(fds[1], &b, 1) != 1) _exit(98);
  });
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  close(dev);
  close(fds[0]);
  close(fds[1]);
}

TEST(ProcessSeccomp, KillsOnOpenWriteElsewhereOrExec) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  int dev = open("/proc/self/exe", O_RDONLY);
  int opened = run_confined(dev, fds[1], [] { (void)open("/etc/passwd", O_RDONLY); });
  EXPECT_TRUE(WIFSIGNALED(opened) && WTERMSIG(opened) == SIGSYS);
  int wrote = run_confined(dev, fds[1], [] { (void)write(2, "x", 1); });
  EXPECT_TRUE(WIFSIGNALED(wrote) && WTERMSIG(wrote) == SIGSYS);
  int read_other = run_confined(dev, fds[1], [&] {
    char b;
    (void)pread(fds[0], &b, 1, 0);
  });
  EXPECT_TRUE(WIFSIGNALED(read_other) && WTERMSIG(read_other) == SIGSYS);
  int exec = run_confined(dev, fds[1], [] {
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    execv("/bin/true", argv);
  });
  EXPECT_TRUE(WIFSIGNALED(exec) && WTERMSIG(exec) == SIGSYS);
  close(dev);
  close(fds[0]);
  close(fds[1]);
}

TEST(ProcessSandbox, SameRecordAsInProcess) {
  char path[] = "/tmp/instar-sandbox-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "hello raw", 9), 9);
  close(fd);
  std::string error;
  auto image = open_image_readonly(path, error);
  ASSERT_TRUE(image) << error;
  HostDevices devices{image->device.get()};
  Request request;
  SandboxOptions none{SandboxKind::none};
  SandboxOptions process{SandboxKind::process};
  auto a = run_sandboxed(none, request, devices);
  auto b = run_sandboxed(process, request, devices);
  ASSERT_TRUE(a.is_ok());
  ASSERT_TRUE(b.is_ok()) << b.error().message;
  EXPECT_EQ(a.value().root.u64_of(kInfoVirtualSize), 512u);
  EXPECT_EQ(b.value().root.u64_of(kInfoVirtualSize), 512u);
  EXPECT_EQ(b.value().root.string_of(kInfoFormat), "raw");
  unlink(path);
}

TEST(Sandbox, AutoNeverPicksNone) {
  EXPECT_NE(resolve_sandbox(SandboxKind::automatic), SandboxKind::none);
  EXPECT_EQ(resolve_sandbox(SandboxKind::none), SandboxKind::none);
}

}  // namespace
}  // namespace instar::cli
