// measure_command.h: `instar measure`, qemu-img measure's options and behaviour.
#pragma once

#include <string>
#include <vector>

#include "cli/program.h"

namespace instar::cli {

// `args` are the arguments after the subcommand name. Returns the exit status.
int measure_command(const Program& program, const std::vector<std::string>& args);

}  // namespace instar::cli
