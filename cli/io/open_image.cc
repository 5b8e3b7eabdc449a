// open_image.cc: open(2) + fstat, refusing what qemu's file driver refuses.
#include "cli/io/open_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace instar::cli {

std::optional<OpenedImage> open_image_readonly(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    error = "Could not open '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    error = "Could not open '" + path + "': " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  if (S_ISDIR(st.st_mode)) {
    error = "'" + path + "' is not a file";  // qemu refuses directories for the file driver
    ::close(fd);
    return std::nullopt;
  }
  OpenedImage image;
  image.length = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  if (S_ISREG(st.st_mode)) image.allocated = static_cast<uint64_t>(st.st_blocks) * 512;
  image.device = std::make_unique<FileBlockDevice>(fd, image.length, false);
  return image;
}

}  // namespace instar::cli
