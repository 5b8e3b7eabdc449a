// map_render.h: qemu-img map's human and JSON output from the map record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/profile.h"

namespace instar::cli {

struct MapEntryView {
  uint64_t start = 0, length = 0, depth = 0, flags = 0;
  bool has_offset = false;
  uint64_t offset = 0;
  std::string filename;  // the file the offset is in
};

// JSON: every entry; `complete` false (the walk failed) leaves the list unclosed, as qemu does.
std::string render_map_json(const std::vector<MapEntryView>& entries, bool complete, const Profile& profile);

// Human: entries with data that is not zero; stops with `error` set at the first
// data entry without an offset (compressed or encrypted), as qemu does.
std::string render_map_human(const std::vector<MapEntryView>& entries, std::string& error);

}  // namespace instar::cli
