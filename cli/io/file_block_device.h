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
  FileBlockDevice(int fd, uint64_t size, uint64_t allocated, bool writable)
      : fd_(fd), size_(size), allocated_(allocated), has_allocated_(true), writable_(writable) {}
  ~FileBlockDevice();
  FileBlockDevice(const FileBlockDevice&) = delete;
  FileBlockDevice& operator=(const FileBlockDevice&) = delete;

  uint64_t size() const override { return size_; }
  Result<void> read(uint64_t offset, void* buffer, size_t length) override;
  Result<void> write(uint64_t offset, const void* buffer, size_t length) override;
  Result<DeviceExtent> extent(uint64_t offset) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool unmap) override;
  uint64_t allocated_size() const override { return has_allocated_ ? allocated_ : size_; }
  int fd() const { return fd_; }
  bool writable() const { return writable_; }

 private:
  int fd_;
  uint64_t size_;
  uint64_t allocated_ = 0;
  bool has_allocated_ = false;
  bool writable_;
};

}  // namespace instar::cli
