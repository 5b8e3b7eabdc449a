// dd_options_fuzzer.cc: qemu-img dd's option and operand parser (cli/dd/dd_command.h)
// under both profiles, and core's window arithmetic (core/ops/dd.h) on what it accepts.
// Input: first line the profile ("7.2" or "10.0"), then one argument per line.
#include <climits>
#include <string>
#include <vector>

#include "cli/dd/dd_command.h"
#include "cli/profile.h"
#include "core/ops/dd.h"
#include "fuzz-targets/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  size_t from = 0;
  while (from <= text.size() && lines.size() < 33) {
    size_t nl = text.find('\n', from);
    lines.push_back(text.substr(from, nl == std::string::npos ? std::string::npos : nl - from));
    if (nl == std::string::npos) break;
    from = nl + 1;
  }
  instar::cli::Program program;
  program.argv0 = program.name = "qemu-img";
  auto profile = instar::cli::parse_profile(lines[0]);
  program.profile = profile ? *profile : *instar::cli::parse_profile("10.0");
  std::vector<std::string> args(lines.begin() + 1, lines.end());
  for (const std::string& a : args)
    if (a.find('\0') != std::string::npos) return 0;  // argv cannot hold a NUL
  int status = -1;
  auto opts = instar::cli::parse_dd_options(program, args, status);
  if (!opts) {
    INSTAR_FUZZ_CHECK(status == 0 || status == 1);
    return 0;
  }
  INSTAR_FUZZ_CHECK(status == 0);
  // Accepted values lie within qemu's ranges.
  INSTAR_FUZZ_CHECK(opts->block_size >= 1 && opts->block_size <= INT_MAX);
  INSTAR_FUZZ_CHECK(!opts->count || *opts->count >= 0);
  INSTAR_FUZZ_CHECK(opts->skip >= 0);
  INSTAR_FUZZ_CHECK(!(opts->image_opts && opts->format));
  // The window never leaves the source, whatever its size.
  instar::DdParams params;
  params.block_size = static_cast<uint64_t>(opts->block_size);
  params.has_count = opts->count.has_value();
  params.count = opts->count ? static_cast<uint64_t>(*opts->count) : 0;
  params.skip = static_cast<uint64_t>(opts->skip);
  for (uint64_t source : {uint64_t{0}, uint64_t{512}, uint64_t{1} << 20, uint64_t{1} << 62}) {
    instar::DdWindow w = instar::dd_window(params, source);
    INSTAR_FUZZ_CHECK(w.start <= source && w.length <= source - w.start);
    if (!params.has_count && !w.skip_failed) INSTAR_FUZZ_CHECK(w.start + w.length == source);
  }
  return 0;
}
