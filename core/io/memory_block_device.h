// memory_block_device.h: a BlockDevice over a caller-owned buffer (tests and fuzzing).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/io/block_device.h"

namespace instar {

class MemoryBlockDevice final : public BlockDevice {
 public:
  // Read-only view.
  MemoryBlockDevice(const uint8_t* data, size_t size) : data_(const_cast<uint8_t*>(data)), size_(size) {}
  // Writable view when `writable` is true.
  MemoryBlockDevice(uint8_t* data, size_t size, bool writable)
      : data_(data), size_(size), writable_(writable) {}

  uint64_t size() const override { return size_; }
  Result<void> read(uint64_t offset, void* buffer, size_t length) override;
  Result<void> write(uint64_t offset, const void* buffer, size_t length) override;

 private:
  uint8_t* data_;
  size_t size_;
  bool writable_ = false;
};

}  // namespace instar
