// line_diff.h: a unified-style line diff of two byte strings, for showing how outputs differ.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace instar::diff {

// "" when a == b. Otherwise "--- a_label" / "+++ b_label" and @@ hunks with
// `context` lines around each change. Control bytes other than tab are shown
// as \xNN so that invisible differences (\r, NUL) are visible; a last line
// without a newline is followed by "\ No newline at end of output".
std::string unified_line_diff(std::string_view a, std::string_view b, std::string_view a_label,
                              std::string_view b_label, size_t context = 3);

}  // namespace instar::diff
