// map_record.h: the record of `map`: the merged extents of the virtual disk in
// the order qemu-img prints them, then an error if the walk stopped early.
#pragma once

#include <stdint.h>

namespace instar {

enum MapTag : uint16_t {
  kMapEntry = 500,  // group
  kMapStart = 501,
  kMapLength = 502,
  kMapDepth = 503,
  kMapFlags = 504,   // MapFlag bits
  kMapOffset = 505,  // present when the offset is valid
  kMapFile = 506,    // the device number the offset is in
};

inline constexpr uint64_t kMapData = 1;
inline constexpr uint64_t kMapZero = 2;
inline constexpr uint64_t kMapPresent = 4;
inline constexpr uint64_t kMapCompressed = 8;

}  // namespace instar
