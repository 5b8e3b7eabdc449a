// fixture.h: describe a directory as file steps (truncate, patch, mkdir) so a case rebuilds it without
// qemu-img.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <vector>

#include "differential/case/case.h"

namespace instar::diff {

// Holes and zero blocks are left to truncate; only non-zero 4 KiB blocks become patches.
// nullopt when the non-zero bytes exceed `limit`.
std::optional<std::vector<SetupStep>> capture_fixture(const std::filesystem::path& dir,
                                                      size_t limit = 4u << 20);

}  // namespace instar::diff
