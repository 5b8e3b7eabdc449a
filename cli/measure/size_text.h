// size_text.h: qemu's size syntax (qemu_strtosz) as each profile parses it,
// and img_measure's --size messages (cvtnum).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace instar::cli {

enum class SizeParse { ok, invalid, out_of_range };

struct ParsedSize {
  SizeParse status = SizeParse::invalid;
  uint64_t value = 0;
  std::string warning;  // 7.2: the deprecation warning for a suffix on a hex number
};

// qemu_strtosz(text, NULL, ...): the whole text must be consumed. `modern`: qemu 8.1 and later.
ParsedSize parse_qemu_size(const std::string& text, bool modern);

}  // namespace instar::cli
