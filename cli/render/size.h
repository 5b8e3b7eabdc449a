// size.h: qemu's human-readable sizes ("196 KiB", "12.5 KiB", "0 B").
#pragma once

#include <cstdint>
#include <string>

namespace instar::cli {

// size_to_str(): three significant digits, binary units, switching unit at 1000.
std::string size_to_str(uint64_t bytes);

}  // namespace instar::cli
