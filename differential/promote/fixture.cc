// fixture.cc: describe a directory as file steps (truncate, allocate, patch, mkdir) so a case rebuilds it
// without qemu-img, allocation included.
#include "differential/promote/fixture.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "differential/common/data_extents.h"

namespace instar::diff {
namespace {

// Allocated bytes a replay writes or fallocates; beyond it the images are too large to keep as a fixture.
constexpr uint64_t kMaxAllocated = uint64_t{256} << 20;

struct Extent {
  uint64_t offset;
  uint64_t length;
  bool unwritten;  // allocated but never written: reads as zeros, a hole to SEEK_DATA on ext4
};

// Appends, merging with the previous extent when they touch and are of the same kind.
void add_extent(std::vector<Extent>& out, Extent e) {
  if (!out.empty() && out.back().unwritten == e.unwritten && out.back().offset + out.back().length == e.offset) {
    out.back().length += e.length;
  } else {
    out.push_back(e);
  }
}

// The data extents by SEEK_DATA / SEEK_HOLE, for filesystems without FIEMAP.
std::vector<Extent> seek_extents(int fd, uint64_t size) {
  std::vector<Extent> out;
  for (const DataRange& r : data_ranges(fd, size)) add_extent(out, Extent{r.offset, r.length, false});
  return out;
}

// The file's extents inside [0, size) by FIEMAP (synced first, so that written data is no longer
// reported as unwritten), with what SEEK_DATA cannot tell: which allocated extents were never written
// (fallocate, qemu's zero clusters written with ZERO_RANGE). qemu's metadata-preallocation heuristic
// compares the file's allocated size with its clusters, so those count.
std::vector<Extent> file_extents(int fd, uint64_t size) {
  constexpr unsigned kBatch = 256;
  std::vector<uint8_t> buffer(sizeof(fiemap) + kBatch * sizeof(fiemap_extent));
  auto* map = reinterpret_cast<fiemap*>(buffer.data());
  std::vector<Extent> out;
  uint64_t start = 0;
  while (start < size) {
    std::fill(buffer.begin(), buffer.end(), 0);
    map->fm_start = start;
    map->fm_length = size - start;
    map->fm_flags = FIEMAP_FLAG_SYNC;
    map->fm_extent_count = kBatch;
    if (ioctl(fd, FS_IOC_FIEMAP, map) != 0) {
      if (errno == EOPNOTSUPP || errno == ENOTTY) return seek_extents(fd, size);
      throw std::system_error(errno, std::generic_category(), "FIEMAP");
    }
    if (map->fm_mapped_extents == 0) break;
    bool last = false;
    for (unsigned i = 0; i < map->fm_mapped_extents; i++) {
      const fiemap_extent& e = map->fm_extents[i];
      last |= (e.fe_flags & FIEMAP_EXTENT_LAST) != 0;
      uint64_t begin = std::max<uint64_t>(e.fe_logical, start);
      uint64_t end = std::min<uint64_t>(e.fe_logical + e.fe_length, size);
      if (end > begin) add_extent(out, Extent{begin, end - begin, (e.fe_flags & FIEMAP_EXTENT_UNWRITTEN) != 0});
      start = std::max<uint64_t>(start, e.fe_logical + e.fe_length);
    }
    if (last) break;
  }
  return out;
}

}  // namespace

std::optional<std::vector<SetupStep>> capture_fixture(const std::filesystem::path& dir, size_t limit) {
  std::vector<std::filesystem::path> entries;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  std::vector<SetupStep> steps;
  size_t total = 0;
  uint64_t allocated = 0;
  for (const auto& path : entries) {
    std::string name = std::filesystem::relative(path, dir).string();
    if (std::filesystem::is_directory(std::filesystem::symlink_status(path))) {
      steps.push_back(SetupStep{MkdirStep{name}, false, 1});
      continue;
    }
    if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(path))) continue;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "opening " + name);
    off_t size = lseek(fd, 0, SEEK_END);
    steps.push_back(SetupStep{TruncateStep{name, static_cast<uint64_t>(size)}, false, 1});
    constexpr size_t kBlock = 4096;
    std::string block(kBlock, '\0');
    PatchStep run{name, 0, ""};
    // Emits the run as patches of its non-zero stretches: zeros are already there after the allocate,
    // so gaps of 64 zero bytes or more split a patch and leading or trailing zeros are dropped.
    auto flush = [&] {
      constexpr size_t kGap = 64;
      const std::string& b = run.bytes;
      size_t i = 0;
      while (i < b.size()) {
        size_t start = b.find_first_not_of('\0', i);
        if (start == std::string::npos) break;
        size_t end = start, zeros = 0;
        for (size_t j = start; j < b.size() && zeros < kGap; j++) {
          if (b[j] == '\0') {
            zeros++;
          } else {
            zeros = 0;
            end = j + 1;
          }
        }
        steps.push_back(SetupStep{PatchStep{name, run.offset + start, b.substr(start, end - start)}, false, 1});
        i = end;
      }
      run.bytes.clear();
    };
    std::vector<Extent> extents;
    try {
      extents = file_extents(fd, static_cast<uint64_t>(size));
    } catch (...) {
      close(fd);
      throw;
    }
    // Only the extents are read, so a TiB-scale sparse file costs nothing.
    for (const Extent& e : extents) {
      steps.push_back(SetupStep{AllocateStep{name, e.offset, e.length, e.unwritten}, false, 1});
      allocated += e.length;
      if (allocated > kMaxAllocated) {
        close(fd);
        return std::nullopt;
      }
      if (e.unwritten) continue;  // reads as zeros
      for (uint64_t at = e.offset / kBlock * kBlock; at < e.offset + e.length; at += kBlock) {
        ssize_t got = pread(fd, block.data(), kBlock, static_cast<off_t>(at));
        if (got <= 0) break;
        std::string_view bytes(block.data(), static_cast<size_t>(got));
        if (bytes.find_first_not_of('\0') == std::string_view::npos) {
          flush();
          continue;
        }
        if (run.bytes.empty()) run.offset = at;
        run.bytes += bytes;
        total += bytes.size();
        if (total > limit) {
          close(fd);
          return std::nullopt;
        }
      }
      flush();
    }
    flush();
    close(fd);
  }
  return steps;
}

}  // namespace instar::diff
