// map_render.h: qemu-img map's human and JSON output from the map record.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "cli/map/map_entries.h"
#include "cli/profile.h"

namespace instar::cli {

// JSON: every entry; `complete` false (the walk failed) leaves the list unclosed, as qemu does.
void render_map_json(const std::vector<MapEntry>& entries, bool complete, const Profile& profile, std::FILE* out);

// Human: entries with data that is not zero, each naming the file its offset is in (`files`, by device
// number; a number past the end names nothing); stops with `error` set at the first data entry without an
// offset (compressed or encrypted), as qemu does.
void render_map_human(const std::vector<MapEntry>& entries, const std::vector<std::string>& files,
                      std::FILE* out, std::string& error);

}  // namespace instar::cli
