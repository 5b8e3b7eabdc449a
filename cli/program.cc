// program.cc: error and usage messages in the invoked name's voice.
#include "cli/program.h"

#include <cstdio>

namespace instar::cli {

void report_error(const Program& program, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program.name.c_str(), message.c_str());
}

int usage_error(const Program& program, const std::string& subcommand, const std::string& message) {
  if (!message.empty()) report_error(program, message);
  if (program.profile.getopt_messages())
    std::fprintf(stderr, "Try '%s %s --help' for more info\n", program.argv0.c_str(), subcommand.c_str());
  else
    std::fprintf(stderr, "Try '%s --help' for more information\n", program.name.c_str());
  return 1;
}

}  // namespace instar::cli
