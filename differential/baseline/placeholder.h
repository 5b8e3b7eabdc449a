// placeholder.h: the token that stands for the case's private directory in recorded outputs.
#pragma once

#include <string>

namespace instar::diff {

inline constexpr const char* kWorkPlaceholder = "@WORKDIR@";

// Every occurrence of `dir` (an absolute path) becomes the placeholder, and back.
std::string to_placeholder(const std::string& text, const std::string& dir);
std::string from_placeholder(const std::string& text, const std::string& dir);

}  // namespace instar::diff
