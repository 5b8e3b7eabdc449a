// whole_file.h: a file's bytes in one string; every loader of cases, reports, rules and baselines uses it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace instar::diff {

// The file's contents, or nullopt when it cannot be opened.
std::optional<std::string> read_whole_file(const std::filesystem::path& file);

}  // namespace instar::diff
