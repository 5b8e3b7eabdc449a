// process_test.cc: running a program with captured output, exit status and a timeout.
#include "differential/runner/process.h"

#include <gtest/gtest.h>

namespace instar::diff {
namespace {

ProcessResult sh(const std::string& script, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  ProcessSpec spec;
  spec.executable = "/bin/sh";
  spec.argv = {"sh", "-c", script};
  spec.cwd = "/";
  spec.timeout = timeout;
  spec.env = {{"INSTAR_TEST_VAR", "set"}};
  return run_process(spec);
}

TEST(RunProcess, CapturesBothStreamsAndTheExitCode) {
  ProcessResult r = sh("printf out; printf err >&2; exit 3");
  EXPECT_EQ(r.ending, ProcessResult::Ending::exited);
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "out");
  EXPECT_EQ(r.err, "err");
  EXPECT_EQ(describe_ending(r), "exit 3");
}

TEST(RunProcess, PassesArgv0EnvironmentAndCwd) {
  ProcessResult r = sh("echo \"$0 $INSTAR_TEST_VAR $(pwd)\"");
  EXPECT_EQ(r.out, "sh set /\n");
}

TEST(RunProcess, StandardInputIsEmpty) {
  ProcessResult r = sh("cat; echo done");
  EXPECT_EQ(r.out, "done\n");
}

TEST(RunProcess, LargeOutputDoesNotDeadlock) {
  ProcessResult r = sh("head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2");
  EXPECT_EQ(r.out.size(), 3000000u);
  EXPECT_EQ(r.err.size(), 3000000u);
}

TEST(RunProcess, ReportsASignal) {
  ProcessResult r = sh("kill -SEGV $$");
  EXPECT_EQ(r.ending, ProcessResult::Ending::signalled);
  EXPECT_EQ(r.code, 11);
  EXPECT_NE(describe_ending(r).find("signal 11"), std::string::npos);
}

TEST(RunProcess, TimeoutKillsTheWholeProcessGroup) {
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = sh("sleep 30 & sleep 30; echo never", std::chrono::milliseconds(300));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.ending, ProcessResult::Ending::timed_out);
  EXPECT_EQ(describe_ending(r), "timed out after 300 ms");
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST(RunProcess, ABackgroundChildHoldingThePipesDoesNotHangTheRun) {
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = sh("sleep 30 & echo leader done", std::chrono::seconds(20));
  EXPECT_EQ(r.ending, ProcessResult::Ending::exited);
  EXPECT_EQ(r.out, "leader done\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(RunProcess, AMissingProgramDoesNotStart) {
  ProcessSpec spec;
  spec.executable = "/nonexistent/program";
  spec.argv = {"program"};
  spec.cwd = "/";
  ProcessResult r = run_process(spec);
  EXPECT_EQ(r.ending, ProcessResult::Ending::not_started);
  EXPECT_NE(describe_ending(r).find("No such file or directory"), std::string::npos);
}

TEST(RunProcess, OutputBeyondTheLimitIsCutAndFlagged) {
  ProcessSpec spec;
  spec.executable = "/bin/sh";
  spec.argv = {"sh", "-c", "head -c 100000 /dev/zero"};
  spec.cwd = "/";
  spec.output_limit = 1000;
  ProcessResult r = run_process(spec);
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_TRUE(r.output_truncated);
}

}  // namespace
}  // namespace instar::diff
