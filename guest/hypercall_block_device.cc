// hypercall_block_device.cc: block reads and writes through the host.
#include "guest/hypercall_block_device.h"

#include "guest/hypercall.h"
#include "guest/malloc.h"
#include "guest/write_slot.h"

namespace instar::guest {

void HypercallBlockDevice::attach(uint32_t device) {
  device_ = device;
  instar_hc_device_size arg{device, 0, 0, INSTAR_HC_EINVAL, 0, 0};
  hypercall(INSTAR_HC_DEVICE_SIZE, &arg);
  present_ = arg.status == INSTAR_HC_OK;
  size_ = present_ ? arg.size : 0;
  allocated_ = present_ ? arg.allocated : 0;
}

Result<void> HypercallBlockDevice::read(uint64_t offset, void* buffer, size_t length) {
  if (offset > size_ || length > size_ - offset) return make_error(Errc::io, "read beyond end of device");
  if (length == 0) return ok();
  INSTAR_TRY(flush());
  return read_direct(offset, buffer, length);
}

Result<void> HypercallBlockDevice::read_direct(uint64_t offset, void* buffer, size_t length) {
  instar_hc_block_read arg{device_, 0, offset, length, reinterpret_cast<uint64_t>(buffer), INSTAR_HC_EIO, 0};
  hypercall(INSTAR_HC_BLOCK_READ, &arg);
  if (arg.status != INSTAR_HC_OK) return make_error(Errc::io, "Input/output error");
  return ok();
}

Result<DeviceExtent> HypercallBlockDevice::extent(uint64_t offset) {
  INSTAR_TRY(flush());
  if (offset >= size_) return make_error(Errc::io, "extent query beyond end of device");
  instar_hc_block_extent arg{device_, 0, offset, 0, 0, INSTAR_HC_EIO};
  hypercall(INSTAR_HC_BLOCK_EXTENT, &arg);
  // The host's answer is trusted no further than the device's size.
  if (arg.status != INSTAR_HC_OK || arg.length == 0 || arg.length > size_ - offset)
    return make_error(Errc::io, "Input/output error");
  return DeviceExtent{arg.data != 0, arg.length};
}

Result<void> HypercallBlockDevice::write_zeroes(uint64_t offset, uint64_t length, bool unmap) {
  INSTAR_TRY(flush());
  instar_hc_block_zero arg{device_, unmap ? 1u : 0u, offset, length, INSTAR_HC_EIO, 0};
  hypercall(INSTAR_HC_BLOCK_ZERO, &arg);
  if (arg.status == INSTAR_HC_EPERM) return make_error(Errc::io, "device is read-only");
  if (arg.status != INSTAR_HC_OK) return make_error(Errc::io, "Input/output error");
  return ok();
}

Result<void> HypercallBlockDevice::write_behind(uint64_t offset, const void* buffer, size_t length) {
  INSTAR_TRY(flush());
  // One slot for all devices: another device's write there is waited for by the host (it orders a
  // hypercall after it), so this one is written at once.
  if (length == 0 || !write_slot_available() || write_slot_busy()) return write_direct(offset, buffer, length);
  write_slot_post(instar_hc_block_read{device_, 0, offset, length, reinterpret_cast<uint64_t>(buffer), INSTAR_HC_EIO, 0});
  posted_ = true;
  return ok();
}

Result<void> HypercallBlockDevice::finish_posted() {
  if (!posted_) return ok();
  posted_ = false;
  int32_t status = write_slot_wait();
  if (status == INSTAR_HC_EPERM) return make_error(Errc::io, "device is read-only");
  if (status != INSTAR_HC_OK) return make_error(Errc::io, "Input/output error");
  return ok();
}

Result<void> HypercallBlockDevice::write(uint64_t offset, const void* buffer, size_t length) {
  INSTAR_TRY(finish_posted());
  if (gather_length_ != 0 && offset == gather_offset_ + gather_length_ && length <= kGatherBytes - gather_length_) {
    __builtin_memcpy(gather_ + gather_length_, buffer, length);
    gather_length_ += length;
    return ok();
  }
  INSTAR_TRY(flush());
  if (length == 0 || length >= kGatherBytes / 2) return write_direct(offset, buffer, length);
  if (gather_ == nullptr) gather_ = static_cast<uint8_t*>(malloc(kGatherBytes));
  if (gather_ == nullptr) return write_direct(offset, buffer, length);
  __builtin_memcpy(gather_, buffer, length);
  gather_offset_ = offset;
  gather_length_ = length;
  return ok();
}

Result<void> HypercallBlockDevice::flush() {
  INSTAR_TRY(finish_posted());
  if (gather_length_ == 0) return ok();
  size_t length = gather_length_;
  gather_length_ = 0;
  return write_direct(gather_offset_, gather_, length);
}

Result<void> HypercallBlockDevice::write_direct(uint64_t offset, const void* buffer, size_t length) {
  instar_hc_block_write arg{device_, 0, offset, length, reinterpret_cast<uint64_t>(buffer), INSTAR_HC_EIO, 0};
  hypercall(INSTAR_HC_BLOCK_WRITE, &arg);
  if (arg.status == INSTAR_HC_EPERM) return make_error(Errc::io, "device is read-only");
  if (arg.status != INSTAR_HC_OK) return make_error(Errc::io, "Input/output error");
  return ok();
}

}  // namespace instar::guest
