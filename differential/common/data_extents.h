// data_extents.h: where a file holds data, by SEEK_DATA / SEEK_HOLE (as qemu's raw driver and qemu-img
// map see it); shared by fixture capture and the written-file records of baselines.
#pragma once

#include <cstdint>
#include <vector>

namespace instar::diff {

struct DataRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// The data ranges of `fd` inside [0, size), in order; empty where lseek cannot tell.
std::vector<DataRange> data_ranges(int fd, uint64_t size);

}  // namespace instar::diff
