// process.h: run one program with captured output, a timeout and its own process group.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace instar::diff {

struct ProcessSpec {
  std::filesystem::path executable;  // what is exec'd; argv[0] is whatever argv says
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // set on top of this process's environment
  std::filesystem::path cwd;
  std::chrono::milliseconds timeout{60'000};
  size_t output_limit = 64u << 20;  // per stream; the rest is discarded and flagged
};

struct ProcessResult {
  enum class Ending { exited, signalled, timed_out, not_started };
  Ending ending = Ending::not_started;
  int code = 0;  // exit code, or signal number when signalled
  std::string out;
  std::string err;
  bool output_truncated = false;
  std::string start_error;                       // why it did not start, when not_started
  std::chrono::milliseconds timed_out_after{0};  // the limit, when timed_out
};

// Standard input is /dev/null. On timeout the whole process group is killed.
ProcessResult run_process(const ProcessSpec& spec);

// This process's PATH with `dir` in front, so that a program that finds itself
// (or a sibling) through PATH finds what was run.
std::string path_with_first(const std::filesystem::path& dir);

// "exit 0", "killed by signal 11 (Segmentation fault)", "timed out", "could not start: ...".
std::string describe_ending(const ProcessResult& result);

}  // namespace instar::diff
