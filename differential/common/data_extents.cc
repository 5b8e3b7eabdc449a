// data_extents.cc: the SEEK_DATA / SEEK_HOLE walk.
#include "differential/common/data_extents.h"

#include <unistd.h>

namespace instar::diff {

std::vector<DataRange> data_ranges(int fd, uint64_t size) {
  std::vector<DataRange> out;
  off_t pos = 0;
  while (static_cast<uint64_t>(pos) < size) {
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;  // ENXIO: only a hole is left
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0 || static_cast<uint64_t>(hole) > size) hole = static_cast<off_t>(size);
    if (hole <= data) break;
    out.push_back(DataRange{static_cast<uint64_t>(data), static_cast<uint64_t>(hole - data)});
    pos = hole;
  }
  return out;
}

}  // namespace instar::diff
