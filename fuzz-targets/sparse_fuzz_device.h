// sparse_fuzz_device.h: a memory device over fuzz input that also answers extent queries like a sparse
// file (zero 4 KiB blocks are holes), for the targets that exercise block status (map, compare).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/io/block_device.h"
#include "core/io/memory_block_device.h"

namespace instar::fuzz {

class SparseFuzzDevice final : public BlockDevice {
 public:
  SparseFuzzDevice(const uint8_t* data, size_t size, bool sparse)
      : memory_(data, size), data_(data), size_(size), sparse_(sparse) {}
  uint64_t size() const override { return size_; }
  Result<void> read(uint64_t offset, void* buffer, size_t length) override {
    return memory_.read(offset, buffer, length);
  }
  Result<void> write(uint64_t offset, const void* buffer, size_t length) override {
    return memory_.write(offset, buffer, length);
  }
  Result<DeviceExtent> extent(uint64_t offset) override {
    if (offset >= size_) return make_error(Errc::io, "extent query beyond end of device");
    if (!sparse_) return DeviceExtent{true, size_ - offset};
    bool data = !zero_block(offset / 4096);
    uint64_t end = (offset / 4096 + 1) * 4096;
    while (end < size_ && !zero_block(end / 4096) == data) end += 4096;
    if (end > size_) end = size_;
    return DeviceExtent{data, end - offset};
  }

 private:
  bool zero_block(uint64_t block) const {
    uint64_t from = block * 4096;
    uint64_t to = from + 4096 < size_ ? from + 4096 : size_;
    for (uint64_t i = from; i < to; i++)
      if (data_[i] != 0) return false;
    return true;
  }
  MemoryBlockDevice memory_;
  const uint8_t* data_;
  size_t size_;
  bool sparse_;
};

}  // namespace instar::fuzz
