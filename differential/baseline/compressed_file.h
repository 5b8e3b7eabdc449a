// compressed_file.h: read and write a baseline output file, zstd-compressed when its name ends in .zst.
#pragma once

#include <filesystem>
#include <string>

namespace instar::diff {

// Throws std::runtime_error when the file cannot be read or does not decompress.
std::string read_baseline_file(const std::filesystem::path& file);
// Compresses when `file` ends in ".zst"; throws std::runtime_error on failure.
void write_baseline_file(const std::filesystem::path& file, const std::string& bytes);

}  // namespace instar::diff
