// program.h: the invocation context every subcommand prints with.
#pragma once

#include <string>

#include "cli/profile.h"
#include "cli/sandbox/sandbox.h"

namespace instar::cli {

struct Program {
  std::string argv0;  // as invoked
  std::string name;   // basename of argv0: "qemu-img" through a drop-in symlink, else "instar"
  Profile profile;
  SandboxOptions sandbox;
};

// error_report(): "<name>: <message>\n" on stderr.
void report_error(const Program& program, const std::string& message);
// A failed option parse: qemu's message style for the profile; returns exit status 1.
int usage_error(const Program& program, const std::string& subcommand, const std::string& message);

}  // namespace instar::cli
