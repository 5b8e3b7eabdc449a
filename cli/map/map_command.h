// map_command.h: `instar map`, as qemu-img map.
#pragma once

#include <string>
#include <vector>

#include "cli/program.h"

namespace instar::cli {

int map_command(const Program& program, const std::vector<std::string>& args);

}  // namespace instar::cli
