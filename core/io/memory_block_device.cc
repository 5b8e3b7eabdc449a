// memory_block_device.cc: bounds-checked copies in and out of a buffer.
#include "core/io/memory_block_device.h"

namespace instar {

Result<void> MemoryBlockDevice::read(uint64_t offset, void* buffer, size_t length) {
  if (offset > size_ || length > size_ - offset) return make_error(Errc::io, "read beyond end of device");
  uint8_t* out = static_cast<uint8_t*>(buffer);
  for (size_t i = 0; i < length; i++) out[i] = data_[offset + i];
  return ok();
}

Result<void> MemoryBlockDevice::write(uint64_t offset, const void* buffer, size_t length) {
  if (!writable_) return make_error(Errc::io, "device is read-only");
  if (offset > size_ || length > size_ - offset) return make_error(Errc::io, "write beyond end of device");
  const uint8_t* in = static_cast<const uint8_t*>(buffer);
  for (size_t i = 0; i < length; i++) data_[offset + i] = in[i];
  return ok();
}

}  // namespace instar
