// profile_tools.h: the reference qemu-img and qemu-io of one profile, and the check that they are that
// version.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace instar::diff {

struct ProfileTools {
  std::string profile;  // "7.2", "10.0"
  std::filesystem::path qemu_img;
  std::filesystem::path qemu_io;
};

// DIR/qemu-img and DIR/qemu-io.
ProfileTools profile_tools_in(const std::string& profile, const std::filesystem::path& dir);

// "" when both tools run and their --version first line starts with
// "<tool> version <profile>."; otherwise why the profile must be skipped.
std::string check_profile_tools(const ProfileTools& tools, std::chrono::milliseconds timeout);

}  // namespace instar::diff
