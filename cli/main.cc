// main.cc: the instar executable: global options, profile, subcommand dispatch.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/check/check_command.h"
#include "cli/compare/compare_command.h"
#include "cli/info/info_command.h"
#include "cli/convert/convert_command.h"
#include "cli/dd/dd_command.h"
#include "cli/map/map_command.h"
#include "cli/measure/measure_command.h"
#include "cli/program.h"

namespace {

// Parses an integer limit in [low, high] and stores value * scale; reports and returns false otherwise.
template <typename T>
bool parse_limit(const std::optional<std::string>& text, long low, long high, const char* what,
                 const instar::cli::Program& program, T& out, long scale) {
  if (!text) return true;
  char* end = nullptr;
  long v = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || v < low || v > high) {
    std::fprintf(stderr, "%s: %s must be a number from %ld to %ld, not '%s'\n", program.name.c_str(), what,
                 low, high, text->c_str());
    return false;
  }
  out = static_cast<T>(v * scale);
  return true;
}

// qemu-img subcommands instar does not implement yet: a clear refusal, never a wrong answer.
const char* const kPendingCommands[] = {"amend", "bench",  "bitmap", "commit",
                                        "create",     "rebase", "resize", "snapshot"};

}  // namespace

int main(int argc, char** argv) {
  using namespace instar::cli;
  Program program;
  program.argv0 = argc > 0 ? argv[0] : "instar";
  size_t slash = program.argv0.rfind('/');
  program.name = slash == std::string::npos ? program.argv0 : program.argv0.substr(slash + 1);

  // instar's own options may appear anywhere (any subcommand); they are removed before parsing.
  std::optional<std::string> version_flag, sandbox_flag, timeout_flag, memory_flag;
  std::vector<std::string> args;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    bool matched = false;
    for (auto [name, target] :
         {std::pair{"--qemu-version", &version_flag}, std::pair{"--sandbox", &sandbox_flag},
          std::pair{"--sandbox-timeout", &timeout_flag}, std::pair{"--sandbox-memory", &memory_flag}}) {
      std::string prefix = std::string(name) + "=";
      if (a == name && i + 1 < argc) {
        *target = argv[++i];
        matched = true;
      } else if (a.rfind(prefix, 0) == 0) {
        *target = a.substr(prefix.size());
        matched = true;
      }
      if (matched) break;
    }
    if (!matched) args.push_back(a);
  }
  if (!sandbox_flag) {
    const char* env = std::getenv("INSTAR_SANDBOX");
    if (env != nullptr && *env != '\0') sandbox_flag = env;
  }
  if (sandbox_flag) {
    auto kind = parse_sandbox_kind(*sandbox_flag);
    if (!kind) {
      std::fprintf(stderr, "%s: --sandbox must be auto, kvm, process or none, not '%s'\n",
                   program.name.c_str(), sandbox_flag->c_str());
      return 1;
    }
    program.sandbox.kind = *kind;
  }
  if (!parse_limit(timeout_flag, 1, 3600, "--sandbox-timeout (seconds)", program, program.sandbox.timeout_ms,
                   1000) ||
      !parse_limit(memory_flag, 16, 4096, "--sandbox-memory (MiB)", program, program.sandbox.memory_mib, 1))
    return 1;
  std::string warning;
  program.profile = select_profile(version_flag, warning);
  if (!warning.empty()) std::fprintf(stderr, "%s: warning: %s\n", program.name.c_str(), warning.c_str());

  if (args.empty()) {
    report_error(program, "Not enough arguments");
    std::fprintf(stderr, "Try '%s --help' for more information\n", program.name.c_str());
    return 1;
  }
  const std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "info") return info_command(program, rest);
  if (command == "check") return check_command(program, rest);
  if (command == "map") return map_command(program, rest);
  if (command == "convert") return convert_command(program, rest);
  if (command == "dd") return dd_command(program, rest);
  if (command == "measure") return measure_command(program, rest);
  if (command == "compare") return compare_command(program, rest);
  if (command == "--version" || command == "-V") {
    std::printf("instar version 0.1.0 (output profile: qemu-img %s)\n", program.profile.name().c_str());
    return 0;
  }
  for (const char* pending : kPendingCommands) {
    if (command == pending) {
      report_error(program, "'" + command + "' is not implemented by instar yet");
      return 1;
    }
  }
  report_error(program, "Command not found: " + command);
  std::fprintf(stderr, "Try '%s --help' for more information\n", program.name.c_str());
  return 1;
}
