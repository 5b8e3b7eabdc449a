// hypercall_block_device.h: the guest's BlockDevice: every access is a hypercall the host checks.
#pragma once

#include "core/io/block_device.h"

namespace instar::guest {

class HypercallBlockDevice final : public BlockDevice {
 public:
  explicit HypercallBlockDevice(uint32_t device);

  bool present() const { return present_; }
  uint64_t size() const override { return size_; }
  Result<void> read(uint64_t offset, void* buffer, size_t length) override;
  Result<void> write(uint64_t offset, const void* buffer, size_t length) override;

 private:
  uint32_t device_;
  uint64_t size_ = 0;
  bool present_ = false;
};

}  // namespace instar::guest
