// map_render.cc: the two output formats of qemu-img map.
#include "cli/map/map_render.h"

#include <cinttypes>
#include <cstdio>

#include "core/ops/map_record.h"

namespace instar::cli {

namespace {

const char* flag(uint64_t flags, uint64_t bit) { return (flags & bit) ? "true" : "false"; }

// printf's "%#-16" PRIx64: 0x-prefixed hex (plain "0" for zero), left-justified in 16 columns.
std::string hex16(uint64_t v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%#-16" PRIx64, v);
  return buf;
}

}  // namespace

std::string render_map_json(const std::vector<MapEntry>& entries, bool complete, const Profile& profile) {
  std::string out = "[";
  char buf[256];
  for (size_t i = 0; i < entries.size(); i++) {
    const MapEntry& e = entries[i];
    std::snprintf(buf, sizeof buf,
                  "{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %" PRIu64
                  ", \"present\": %s, \"zero\": %s, \"data\": %s",
                  e.start, e.length, e.depth, flag(e.flags, kMapPresent), flag(e.flags, kMapZero),
                  flag(e.flags, kMapData));
    out += buf;
    // qemu 8.2 added "compressed".
    if (profile.major > 8 || (profile.major == 8 && profile.minor >= 2))
      out += std::string(", \"compressed\": ") + flag(e.flags, kMapCompressed);
    if (e.has_offset) out += ", \"offset\": " + std::to_string(e.offset);
    out += "}";
    if (i + 1 < entries.size() || !complete) out += ",\n";
  }
  if (complete) out += "]\n";
  return out;
}

std::string render_map_human(const std::vector<MapEntry>& entries, const std::vector<std::string>& files,
                             std::string& error) {
  char header[80];
  std::snprintf(header, sizeof header, "%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
  std::string out = header;
  for (const MapEntry& e : entries) {
    bool data = e.flags & kMapData, zero = e.flags & kMapZero;
    if (data && !e.has_offset) {
      error = "File contains external, encrypted or compressed clusters.";
      return out;
    }
    if (data && !zero) {
      out += hex16(e.start) + hex16(e.length) + hex16(e.has_offset ? e.offset : 0);
      if (e.file < files.size()) out += files[e.file];
      out += "\n";
    }
  }
  return out;
}

}  // namespace instar::cli
