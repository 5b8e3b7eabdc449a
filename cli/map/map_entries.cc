// map_entries.cc: bounded unpacking of the map record's extent batches (core/ops/map_record.h).
#include "cli/map/map_entries.h"

#include "core/ops/map_record.h"

namespace instar::cli {

namespace {

uint64_t load_le64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Result<std::vector<MapEntry>> decode_map_entries(const RecordField& root) {
  auto bad = [](const char* why) { return make_error(Errc::invalid, why); };
  std::vector<MapEntry> entries;
  size_t total = 0;
  for (const RecordField& f : root.children)
    if (f.tag == kMapEntries) total += f.bytes.size() / kMapEntryBytes;
  entries.reserve(total);
  for (const RecordField& f : root.children) {
    if (f.tag != kMapEntries) continue;
    if (f.is_u64 || f.is_group) return bad("map record: an extent batch is not a bytes field");
    size_t size = f.bytes.size();
    if (size == 0 || size % kMapEntryBytes != 0 || size / kMapEntryBytes > kMapEntriesPerField)
      return bad("map record: an extent batch has a bad length");
    const auto* p = reinterpret_cast<const unsigned char*>(f.bytes.data());
    for (size_t at = 0; at < size; at += kMapEntryBytes) {
      const unsigned char* e = p + at;
      MapEntry m;
      m.start = load_le64(e);
      m.length = load_le64(e + 8);
      uint64_t offset = load_le64(e + 16);
      m.depth = e[24];
      uint8_t flags = e[25];
      uint8_t file = e[26];
      if ((flags & ~kMapKnownFlags) != 0) return bad("map record: an extent has unknown flags");
      m.has_offset = (flags & kMapOffsetValid) != 0;
      if (!m.has_offset && (offset != 0 || file != 0))
        return bad("map record: an extent without an offset names one");
      m.flags = flags & ~kMapOffsetValid;
      m.offset = offset;
      m.file = file;
      entries.push_back(m);
    }
  }
  return entries;
}

}  // namespace instar::cli
