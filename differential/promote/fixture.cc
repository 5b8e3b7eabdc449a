// fixture.cc: describe a directory as file steps (truncate, patch, mkdir) so a case rebuilds it without
// qemu-img.
#include "differential/promote/fixture.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

namespace instar::diff {

std::optional<std::vector<SetupStep>> capture_fixture(const std::filesystem::path& dir, size_t limit) {
  std::vector<std::filesystem::path> entries;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  std::vector<SetupStep> steps;
  size_t total = 0;
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
    // Emits the run as patches of its non-zero stretches: zeros are already there after the truncate,
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
    // Walk the data extents only, so a TiB-scale sparse file costs nothing.
    off_t pos = 0;
    while (pos < size) {
      off_t data = lseek(fd, pos, SEEK_DATA);
      if (data < 0) break;
      off_t hole = lseek(fd, data, SEEK_HOLE);
      for (off_t at = data / kBlock * kBlock; at < hole; at += kBlock) {
        ssize_t got = pread(fd, block.data(), kBlock, at);
        if (got <= 0) break;
        std::string_view bytes(block.data(), static_cast<size_t>(got));
        if (bytes.find_first_not_of('\0') == std::string_view::npos) {
          flush();
          continue;
        }
        if (run.bytes.empty()) run.offset = static_cast<uint64_t>(at);
        run.bytes += bytes;
        total += bytes.size();
        if (total > limit) {
          close(fd);
          return std::nullopt;
        }
      }
      flush();
      pos = hole;
    }
    flush();
    close(fd);
  }
  return steps;
}

}  // namespace instar::diff
