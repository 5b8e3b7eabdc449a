// map_entries.h: the extents of a map record (hostile input), unpacked from its kMapEntries fields.
#pragma once

#include <cstdint>
#include <vector>

#include "cli/record_decoder.h"
#include "core/base/result.h"

namespace instar::cli {

struct MapEntry {
  uint64_t start = 0, length = 0, depth = 0, flags = 0;  // flags: kMapData, kMapZero, ...
  bool has_offset = false;
  uint64_t offset = 0;
  uint8_t file = 0;  // the device the offset is in (with has_offset)
};

// Rejects a field whose length is not a whole number of entries (or more than a batch), unknown flag
// bits, and a device number or offset on an entry without a valid offset.
Result<std::vector<MapEntry>> decode_map_entries(const RecordField& root);

}  // namespace instar::cli
