// tree_copy.h: copy a directory tree so that every file keeps its holes and preallocated extents.
#pragma once

#include <filesystem>

namespace instar::diff {

// Copies regular files, directories and symlinks from `from` into `to`, which
// must not exist yet. Each copied file is fsync'ed so its allocation (which
// qemu-img reports as "disk size") is settled before anything reads it.
// Throws std::system_error.
void copy_tree(const std::filesystem::path& from, const std::filesystem::path& to);

// One regular file, same rules; `to` is created or replaced.
void copy_file_keeping_allocation(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace instar::diff
