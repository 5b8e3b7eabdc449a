// open_image.cc: open(2) + fstat, refusing what qemu's file driver refuses.
#include "cli/io/open_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace instar::cli {

namespace {

std::optional<OpenedImage> open_image(const std::string& path, bool writable, bool direct, std::string& error) {
  // O_NONBLOCK so that a FIFO cannot hang the open; it is refused below.
  int fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    error = "Could not open '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  if (direct) {
    // qemu opens with O_DIRECT: what refuses it (EINVAL: a directory, a device, a file system without
    // direct I/O) is its own message, before the file-type checks. The kernel applies the same test to
    // setting the flag on this descriptor; it is cleared again, reads go through the page cache.
    int flags = fcntl(fd, F_GETFL);
    if (fcntl(fd, F_SETFL, flags | O_DIRECT) != 0 && errno == EINVAL) {
      error = "Could not open '" + path + "': filesystem does not support O_DIRECT";
      ::close(fd);
      return std::nullopt;
    }
    fcntl(fd, F_SETFL, flags);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    error = "Could not open '" + path + "': " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  // qemu's file driver takes regular files only (devices go to host_device, which instar does not offer).
  if (!S_ISREG(st.st_mode)) {
    error = "'file' driver requires '" + path + "' to be a regular file";
    ::close(fd);
    return std::nullopt;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  OpenedImage image;
  image.length = static_cast<uint64_t>(st.st_size);
  image.allocated = static_cast<uint64_t>(st.st_blocks) * 512;
  image.dev = static_cast<uint64_t>(st.st_dev);
  image.ino = static_cast<uint64_t>(st.st_ino);
  image.device = std::make_unique<FileBlockDevice>(fd, image.length, *image.allocated, writable);
  return image;
}

}  // namespace

std::optional<OpenedImage> open_image_readonly(const std::string& path, std::string& error, bool direct) {
  return open_image(path, false, direct, error);
}

std::optional<OpenedImage> open_image_for_repair(const std::string& path, std::string& error) {
  return open_image(path, true, false, error);
}

}  // namespace instar::cli
