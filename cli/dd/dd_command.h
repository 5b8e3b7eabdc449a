// dd_command.h: `instar dd` with a raw output, as qemu-img dd.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/program.h"

namespace instar::cli {

// qemu-img dd's options and operands once parsed and checked.
struct DdOptions {
  std::optional<std::string> format;  // -f
  std::string out_format = "raw";     // -O
  bool image_opts = false;
  int64_t block_size = 512;           // bs=: 1..INT_MAX
  std::optional<int64_t> count;       // count=: 0..INT64_MAX
  int64_t skip = 0;                   // skip=: 0..INT64_MAX
  std::string input, output;          // if=, of=
};

// Parses `args` (after "dd") as qemu-img dd of the profile does: getopt, then
// the operands in order (a repeated operand replaces the earlier one), then the
// checks that come before anything is opened. On failure prints qemu's message
// and returns nullopt with `status` the exit code (0 after -h).
std::optional<DdOptions> parse_dd_options(const Program& program, const std::vector<std::string>& args,
                                          int& status);

int dd_command(const Program& program, const std::vector<std::string>& args);

}  // namespace instar::cli
