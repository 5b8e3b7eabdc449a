// file_block_device.cc: pread/pwrite loops with bounds checks.
#include "cli/io/file_block_device.h"

#include <unistd.h>

#include <cerrno>

#include "vmm/hypercall_handler.h"

namespace instar::cli {

FileBlockDevice::~FileBlockDevice() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> FileBlockDevice::read(uint64_t offset, void* buffer, size_t length) {
  if (offset > size_ || length > size_ - offset) return make_error(Errc::io, "read beyond end of device");
  auto* out = static_cast<uint8_t*>(buffer);
  while (length > 0) {
    ssize_t n = ::pread(fd_, out, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(Errc::io, "Input/output error");
    out += n;
    offset += static_cast<uint64_t>(n);
    length -= static_cast<size_t>(n);
  }
  return ok();
}

Result<DeviceExtent> FileBlockDevice::extent(uint64_t offset) {
  if (offset >= size_) return make_error(Errc::io, "extent query beyond end of device");
  vmm::DeviceExtentAnswer a = vmm::query_extent(fd_, size_, offset);
  if (!a.ok || a.length == 0) return make_error(Errc::io, "Input/output error");
  return DeviceExtent{a.data, a.length};
}

Result<void> FileBlockDevice::write_zeroes(uint64_t offset, uint64_t length, bool unmap) {
  if (!writable_) return make_error(Errc::io, "device is read-only");
  if (!vmm::zero_range(fd_, offset, length, unmap)) return make_error(Errc::io, "Input/output error");
  if (offset + length > size_) size_ = offset + length;
  return ok();
}

Result<void> FileBlockDevice::write(uint64_t offset, const void* buffer, size_t length) {
  if (!writable_) return make_error(Errc::io, "device is read-only");
  const auto* in = static_cast<const uint8_t*>(buffer);
  while (length > 0) {
    ssize_t n = ::pwrite(fd_, in, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(Errc::io, "Input/output error");
    in += n;
    offset += static_cast<uint64_t>(n);
    length -= static_cast<size_t>(n);
  }
  if (offset > size_) size_ = offset;
  return ok();
}

}  // namespace instar::cli
