// command_line.h: render an argv as a shell command line a person can paste.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace instar::diff {

std::string shell_quote(std::string_view arg);
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace instar::diff
