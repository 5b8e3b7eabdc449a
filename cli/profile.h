// profile.h: which qemu-img version's output instar reproduces.
#pragma once

#include <optional>
#include <string>

namespace instar::cli {

struct Profile {
  int major = 10;
  int minor = 0;
  std::string name() const { return std::to_string(major) + "." + std::to_string(minor); }
  // qemu-img 8.0 added the "Child node" section and "children" in JSON.
  bool has_child_nodes() const { return major >= 8; }
  // qemu-img 9.1 renamed the snapshot columns (VM_SIZE, VM_CLOCK) and widened the clock.
  bool snapshot_columns_v2() const { return major > 9 || (major == 9 && minor >= 1); }
  // qemu-img 9.2+ parses subcommand options with getopt's own messages and per-command help.
  bool getopt_messages() const { return major > 9 || (major == 9 && minor >= 2); }
};

// The profiles instar has recorded and verified.
inline const char* const kKnownProfiles[] = {"7.2", "10.0"};

// Parses "X.Y" or "X.Y.Z"; nullopt when malformed.
std::optional<Profile> parse_profile(const std::string& text);

// Order: --qemu-version, then INSTAR_QEMU_VERSION, then the installed qemu-img
// (its version cached by binary identity so it is not spawned on every run),
// then the newest profile. `warning` receives a note when a version outside the
// known profiles is mapped onto one.
Profile select_profile(const std::optional<std::string>& flag, std::string& warning);

}  // namespace instar::cli
