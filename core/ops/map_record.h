// map_record.h: the record of `map`: the merged extents of the virtual disk in
// the order qemu-img prints them, then an error if the walk stopped early.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace instar {

enum MapTag : uint16_t {
  // One bytes field holds a batch of up to kMapEntriesPerField extents, kMapEntryBytes each, in order;
  // a map of many extents is several such fields (one group of u64 fields per extent cost the host a
  // tree node per number to decode: docs/bench.md, "Read path").
  kMapEntries = 507,
};

// One extent, little-endian: start u64 at 0, length u64 at 8, offset u64 at 16 (0 unless kMapOffsetValid),
// depth u8 at 24 (the layer that answered; a chain is at most kMaxAttached + 1 layers), flags u8 at 25
// (MapFlag bits), file u8 at 26 (the device number the offset is in; 0 unless kMapOffsetValid).
inline constexpr size_t kMapEntryBytes = 27;
inline constexpr size_t kMapEntriesPerField = 128;

inline constexpr uint64_t kMapData = 1;
inline constexpr uint64_t kMapZero = 2;
inline constexpr uint64_t kMapPresent = 4;
inline constexpr uint64_t kMapCompressed = 8;
inline constexpr uint64_t kMapOffsetValid = 16;
inline constexpr uint64_t kMapKnownFlags = 31;

}  // namespace instar
