// open_image.h: host-side opening of an image file named by the user.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cli/io/file_block_device.h"

namespace instar::cli {

struct OpenedImage {
  std::unique_ptr<FileBlockDevice> device;
  uint64_t length = 0;
  std::optional<uint64_t> allocated;  // st_blocks * 512
  uint64_t dev = 0;  // st_dev and st_ino: the same file reached twice is a cycle
  uint64_t ino = 0;
};

// Opens read-only. On failure `error` holds qemu's file-driver text:
// "Could not open '<path>': <strerror>". `direct`: qemu would open with O_DIRECT
// (cache mode none, off or directsync): O_DIRECT is set on the descriptor once so
// that what such an open refuses (a directory, a character device, a file system
// without O_DIRECT) fails as in qemu, then cleared; reads use the page cache.
std::optional<OpenedImage> open_image_readonly(const std::string& path, std::string& error, bool direct = false);

// Opens read-write, for an in-place repair (check -r) only: the device is
// writable but cannot grow (the sandboxes keep writes inside its size).
std::optional<OpenedImage> open_image_for_repair(const std::string& path, std::string& error);

}  // namespace instar::cli
