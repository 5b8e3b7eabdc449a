// block_device.cc: helpers shared by every BlockDevice implementation.
#include "core/io/block_device.h"

namespace instar {

Result<size_t> read_zero_padded(BlockDevice& device, uint64_t offset, void* buffer, size_t length) {
  uint8_t* out = static_cast<uint8_t*>(buffer);
  uint64_t size = device.size();
  size_t available = 0;
  if (offset < size) {
    uint64_t left = size - offset;
    available = left < length ? static_cast<size_t>(left) : length;
  }
  if (available > 0) INSTAR_TRY(device.read(offset, out, available));
  for (size_t i = available; i < length; i++) out[i] = 0;
  return available;
}

}  // namespace instar
