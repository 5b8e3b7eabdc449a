// file_block_device.h: a BlockDevice over a host file descriptor (host side only).
#pragma once

#include <cstdint>
#include <string>

#include "core/io/block_device.h"

namespace instar::cli {

class FileBlockDevice final : public BlockDevice {
 public:
  // Takes ownership of `fd`.
  FileBlockDevice(int fd, uint64_t size, bool writable) : fd_(fd), size_(size), writable_(writable) {}
  ~FileBlockDevice();
  FileBlockDevice(const FileBlockDevice&) = delete;
  FileBlockDevice& operator=(const FileBlockDevice&) = delete;

  uint64_t size() const override { return size_; }
  Result<void> read(uint64_t offset, void* buffer, size_t length) override;
  Result<void> write(uint64_t offset, const void* buffer, size_t length) override;
  int fd() const { return fd_; }

 private:
  int fd_;
  uint64_t size_;
  bool writable_;
};

}  // namespace instar::cli
