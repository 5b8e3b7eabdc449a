// hypercall_block_device.cc: block reads and writes through the host.
#include "guest/hypercall_block_device.h"

#include "guest/hypercall.h"
#include "guest/malloc.h"

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

Result<void> HypercallBlockDevice::write(uint64_t offset, const void* buffer, size_t length) {
  if (gather_length_ != 0 && offset == gather_offset_ + gather_length_ && length <= kGatherBytes - gather_length_) {
    __builtin_memcpy(gather_[current_] + gather_length_, buffer, length);
    gather_length_ += length;
    return ok();
  }
  INSTAR_TRY(send_gathered());
  if (length == 0 || length >= kGatherBytes / 2) {
    // A plain write: the host completes every lent write first, so order holds.
    return write_direct(offset, buffer, length, 0);
  }
  INSTAR_TRY_ASSIGN(into, gather_buffer());
  if (into == nullptr) return write_direct(offset, buffer, length, 0);
  __builtin_memcpy(into, buffer, length);
  gather_offset_ = offset;
  gather_length_ = length;
  return ok();
}

Result<uint8_t*> HypercallBlockDevice::gather_buffer() {
  if (gather_[current_] == nullptr) gather_[current_] = static_cast<uint8_t*>(malloc(kGatherBytes));
  if (gather_[current_] == nullptr) return static_cast<uint8_t*>(nullptr);
  // Still with the host from two sends ago: wait for it (and everything lent before it).
  if (gather_lent_[current_]) INSTAR_TRY(settle_all());
  return gather_[current_];
}

Result<void> HypercallBlockDevice::send_gathered() {
  if (gather_length_ == 0) return ok();
  size_t length = gather_length_;
  gather_length_ = 0;
  // Lent: the other gather buffer takes the next writes while the host writes this one.
  INSTAR_TRY(write_direct(gather_offset_, gather_[current_], length, INSTAR_WRITE_BEHIND));
  gather_lent_[current_] = true;
  current_ ^= 1;
  return ok();
}

Result<void> HypercallBlockDevice::write_behind(uint64_t offset, const void* buffer, size_t length) {
  // Small writes are copied into a gather buffer: the caller's buffer is not lent.
  if (length < kGatherBytes / 2) return write(offset, buffer, length);
  INSTAR_TRY(send_gathered());
  INSTAR_TRY(write_direct(offset, buffer, length, INSTAR_WRITE_BEHIND));
  caller_lent_ = true;
  return ok();
}

Result<void> HypercallBlockDevice::settle() {
  if (!caller_lent_) return ok();
  return settle_all();
}

Result<void> HypercallBlockDevice::settle_all() {
  caller_lent_ = false;
  bool any = gather_lent_[0] || gather_lent_[1] || lent_since_settle_;
  gather_lent_[0] = gather_lent_[1] = false;
  lent_since_settle_ = false;
  if (!any) return ok();
  instar_hc_block_settle arg{INSTAR_HC_EIO, 0};
  hypercall(INSTAR_HC_BLOCK_SETTLE, &arg);
  if (arg.status != INSTAR_HC_OK) return make_error(Errc::io, "Input/output error");
  return ok();
}

Result<void> HypercallBlockDevice::flush() {
  INSTAR_TRY(send_gathered());
  return settle_all();
}

Result<void> HypercallBlockDevice::write_direct(uint64_t offset, const void* buffer, size_t length, uint32_t flags) {
  instar_hc_block_write arg{device_, flags, offset, length, reinterpret_cast<uint64_t>(buffer), INSTAR_HC_EIO, 0};
  hypercall(INSTAR_HC_BLOCK_WRITE, &arg);
  // A lent write that failed later is reported by the next settle, even if nothing else is lent then.
  if ((flags & INSTAR_WRITE_BEHIND) != 0 && arg.status == INSTAR_HC_OK) lent_since_settle_ = true;
  if (arg.status == INSTAR_HC_EPERM) return make_error(Errc::io, "device is read-only");
  if (arg.status != INSTAR_HC_OK) return make_error(Errc::io, "Input/output error");
  return ok();
}

}  // namespace instar::guest
