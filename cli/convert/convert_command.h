// convert_command.h: `instar convert` with a raw target, as qemu-img convert.
#pragma once

#include <string>
#include <vector>

#include "cli/program.h"

namespace instar::cli {

int convert_command(const Program& program, const std::vector<std::string>& args);

}  // namespace instar::cli
