// hypercall_block_device.h: the guest's BlockDevice: every access is a hypercall the host checks.
#pragma once

#include "core/io/block_device.h"

namespace instar::guest {

class HypercallBlockDevice final : public BlockDevice {
 public:
  HypercallBlockDevice() = default;
  explicit HypercallBlockDevice(uint32_t device) { attach(device); }
  // Asks the host for device `device`'s size; present() says whether it exists.
  void attach(uint32_t device);

  bool present() const { return present_; }
  uint64_t size() const override { return size_; }
  Result<void> read(uint64_t offset, void* buffer, size_t length) override;
  Result<void> write(uint64_t offset, const void* buffer, size_t length) override;
  Result<DeviceExtent> extent(uint64_t offset) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool unmap) override;
  uint64_t allocated_size() const override { return allocated_; }

 private:
  uint32_t device_ = 0;
  uint64_t size_ = 0;
  uint64_t allocated_ = 0;
  bool present_ = false;
};

}  // namespace instar::guest
