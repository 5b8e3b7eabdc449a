// block_device.h: the one I/O interface every parser and operation reads through.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/result.h"

namespace instar {

class BlockDevice {
 public:
  BlockDevice() = default;
  BlockDevice(const BlockDevice&) = delete;
  BlockDevice& operator=(const BlockDevice&) = delete;

  // Size in bytes of the underlying file or buffer.
  virtual uint64_t size() const = 0;
  // Reads exactly `length` bytes at `offset`; reading past the end is an error.
  virtual Result<void> read(uint64_t offset, void* buffer, size_t length) = 0;
  // Writes exactly `length` bytes at `offset`; read-only devices refuse.
  virtual Result<void> write(uint64_t offset, const void* buffer, size_t length) = 0;

 protected:
  // Never deleted through the interface, so no virtual destructor (and no operator delete in the guest).
  ~BlockDevice() = default;
};

// Reads up to `length` bytes at `offset`, zero-filling what lies past the end
// of the device (qemu reads a short image's header this way), and returns the
// number of bytes that came from the device.
Result<size_t> read_zero_padded(BlockDevice& device, uint64_t offset, void* buffer, size_t length);

}  // namespace instar
