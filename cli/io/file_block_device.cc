// file_block_device.cc: pread/pwrite loops with bounds checks.
#include "cli/io/file_block_device.h"

#include <unistd.h>

#include <cerrno>

#include "vmm/hypercall_handler.h"
#include "vmm/write_behind.h"

namespace instar::cli {

FileBlockDevice::~FileBlockDevice() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileBlockDevice::complete_lent() {
  if (!lent_) return true;
  lent_ = false;
  writer_->drain();
  return !writer_->take_failure();
}

Result<void> FileBlockDevice::settle() {
  if (!complete_lent()) return make_error(Errc::io, "Input/output error");
  return ok();
}

Result<void> FileBlockDevice::flush() { return settle(); }

Result<void> FileBlockDevice::write_behind(uint64_t offset, const void* buffer, size_t length) {
  if (writer_ == nullptr || !writable_ || offset > size_ || length > size_ - offset)
    return write(offset, buffer, length);
  if (length == 0) return ok();
  writer_->push(vmm::WriteBehind::Entry{fd_, static_cast<const uint8_t*>(buffer), offset, length});
  lent_ = true;
  return ok();
}

Result<void> FileBlockDevice::read(uint64_t offset, void* buffer, size_t length) {
  // Reads see every lent write; a failure among them stays for flush() to report.
  if (lent_) writer_->drain();
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
  if (lent_) writer_->drain();
  vmm::DeviceExtentAnswer a = vmm::query_extent(fd_, size_, offset);
  if (!a.ok || a.length == 0) return make_error(Errc::io, "Input/output error");
  return DeviceExtent{a.data, a.length};
}

Result<void> FileBlockDevice::write_zeroes(uint64_t offset, uint64_t length, bool unmap) {
  if (!writable_) return make_error(Errc::io, "device is read-only");
  if (lent_) writer_->drain();
  if (!vmm::zero_range(fd_, offset, length, unmap)) return make_error(Errc::io, "Input/output error");
  if (offset + length > size_) size_ = offset + length;
  return ok();
}

Result<void> FileBlockDevice::write(uint64_t offset, const void* buffer, size_t length) {
  if (!writable_) return make_error(Errc::io, "device is read-only");
  if (lent_) writer_->drain();
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
