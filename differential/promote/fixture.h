// fixture.h: describe a directory as file steps (truncate, allocate, patch, mkdir) so a case rebuilds it
// without qemu-img, allocation included.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <vector>

#include "differential/case/case.h"

namespace instar::diff {

// Every data extent (SEEK_DATA/SEEK_HOLE) becomes an allocate step, and its non-zero 4 KiB blocks
// patches; holes are left to truncate. nullopt when the non-zero bytes exceed `limit` or the allocated
// ones 256 MiB.
std::optional<std::vector<SetupStep>> capture_fixture(const std::filesystem::path& dir,
                                                      size_t limit = 16u << 20);

}  // namespace instar::diff
