// main.cc: the instar executable: global options, profile, subcommand dispatch.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/info/info_command.h"
#include "cli/program.h"

namespace {

// qemu-img subcommands instar does not implement yet: a clear refusal, never a wrong answer.
const char* const kPendingCommands[] = {"amend",   "bench",   "bitmap", "check",   "commit",
                                        "compare", "convert", "create", "dd",      "map",
                                        "measure", "rebase",  "resize", "snapshot"};

}  // namespace

int main(int argc, char** argv) {
  using namespace instar::cli;
  Program program;
  program.argv0 = argc > 0 ? argv[0] : "instar";
  size_t slash = program.argv0.rfind('/');
  program.name = slash == std::string::npos ? program.argv0 : program.argv0.substr(slash + 1);

  // --qemu-version X.Y may appear anywhere; it is instar's own and removed before parsing.
  std::optional<std::string> version_flag;
  std::vector<std::string> args;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--qemu-version" && i + 1 < argc) {
      version_flag = argv[++i];
    } else if (a.rfind("--qemu-version=", 0) == 0) {
      version_flag = a.substr(std::strlen("--qemu-version="));
    } else {
      args.push_back(a);
    }
  }
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
