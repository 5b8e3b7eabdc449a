// size_option.h: numbers with size suffixes as qemu-img reads them
// (qemu_strtosz and qemu-img's cvtnum), with each profile's messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cli/program.h"

namespace instar::cli {

enum class SizeParse { ok, invalid, range };

// qemu_strtosz: decimal with an optional fraction and a B/K/M/G/T/P/E suffix
// (powers of 1024), or hex without either. `qemu_10` selects 10.0's rule that
// a minus sign is out of range rather than invalid.
SizeParse parse_qemu_size(const std::string& text, bool qemu_10, uint64_t& out);

// cvtnum_full: prints qemu-img's error for option `name` ("start offset",
// "max length", ...) and returns nullopt when `value` is invalid or outside [min, max].
std::optional<int64_t> cvtnum(const Program& program, const std::string& name, const std::string& value,
                              int64_t min = 0, int64_t max = INT64_MAX);

}  // namespace instar::cli
