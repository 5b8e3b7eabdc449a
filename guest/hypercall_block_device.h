// hypercall_block_device.h: the guest's BlockDevice: every access is a hypercall the host checks.
// Small adjacent writes are gathered into one hypercall (a VM exit, about 45 us under kvm_pvm; convert
// writes its output a cluster at a time). Reads are never widened: reading bytes qemu would not read
// warms the host's page cache, and ext4 then reports fallocated ranges as data to SEEK_DATA (seen:
// case map/qcow2-metadata-prealloc-heuristic changed its answer under a 256 KiB read-ahead).
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
  Result<void> write_behind(uint64_t offset, const void* buffer, size_t length) override;
  Result<DeviceExtent> extent(uint64_t offset) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool unmap) override;
  Result<void> flush() override;
  bool prefers_large_requests() const override { return true; }
  uint64_t allocated_size() const override { return allocated_; }

 private:
  Result<void> read_direct(uint64_t offset, void* buffer, size_t length);
  Result<void> write_direct(uint64_t offset, const void* buffer, size_t length);
  // Waits for this device's write in the write-behind slot, if any, and returns its error.
  Result<void> finish_posted();

  static constexpr size_t kGatherBytes = 1024 * 1024;
  uint8_t* gather_ = nullptr;       // malloc'd on first use; null if the heap is exhausted
  uint64_t gather_offset_ = 0;
  size_t gather_length_ = 0;        // bytes written to the device but not yet sent to the host

  uint32_t device_ = 0;
  uint64_t size_ = 0;
  uint64_t allocated_ = 0;
  bool present_ = false;
  bool posted_ = false;  // this device's write is in the write-behind slot
};

}  // namespace instar::guest
