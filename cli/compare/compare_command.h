// compare_command.h: `instar compare`, qemu-img compare's options and output.
#pragma once

#include <string>
#include <vector>

#include "cli/program.h"

namespace instar::cli {

// Exit status as qemu-img's: 0 identical, 1 different, 2 an open or option
// failure, 3 a failed block status query, 4 a failed read.
int compare_command(const Program& program, const std::vector<std::string>& args);

}  // namespace instar::cli
