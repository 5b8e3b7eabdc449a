// check_command.h: `instar check`, qemu-img check's options and behaviour (read-only: no -r yet).
#pragma once

#include <string>
#include <vector>

#include "cli/program.h"

namespace instar::cli {

// `args` are the arguments after the subcommand name. Returns the exit status.
int check_command(const Program& program, const std::vector<std::string>& args);

}  // namespace instar::cli
