// block_device.h: the one I/O interface every parser and operation reads through.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/result.h"

namespace instar {

// What the host's filesystem says about the bytes at an offset: data, or a
// hole that reads as zeroes, running for `length` bytes (at least one, at most
// to the end of the device). It describes the file, not the image in it.
struct DeviceExtent {
  bool data = true;
  uint64_t length = 0;
};

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
  // write(), which may still be going on when it returns (the guest's device hands it to a host
  // thread and goes on): `buffer` must stay unchanged until the device's next call returns, and a
  // failure may be reported by that call. Devices without a way to write in the background write.
  virtual Result<void> write_behind(uint64_t offset, const void* buffer, size_t length) {
    return write(offset, buffer, length);
  }
  // The data/hole extent starting at `offset` (< size()). Devices that cannot
  // tell report data to the end, as qemu's file driver does without SEEK_DATA.
  // (Defined here, not in core/: core is built without RTTI, and a key function
  // there would leave host subclasses without the base's typeinfo.)
  virtual Result<DeviceExtent> extent(uint64_t offset) {
    if (offset >= size()) return make_error(Errc::io, "extent query beyond end of device");
    return DeviceExtent{true, size() - offset};
  }
  // Makes [offset, offset + length) read as zeroes; `unmap` lets the device
  // free the blocks (a hole) rather than allocate zeroes. Devices without a
  // faster way write zero bytes.
  virtual Result<void> write_zeroes(uint64_t offset, uint64_t length, bool unmap) {
    (void)unmap;
    static const uint8_t kZeroes[4096] = {};
    while (length > 0) {
      size_t n = length < sizeof kZeroes ? static_cast<size_t>(length) : sizeof kZeroes;
      INSTAR_TRY(write(offset, kZeroes, n));
      offset += n;
      length -= n;
    }
    return ok();
  }
  // Completes writes a device has held back (the guest's coalesces small adjacent writes into one
  // hypercall); an operation that writes calls it before it reports success, so a failed write is
  // still its error. Devices that write at once have nothing to do.
  virtual Result<void> flush() { return ok(); }
  // Bytes the file occupies on disk (st_blocks * 512); size() where unknown.
  virtual uint64_t allocated_size() const { return size(); }
  // Whether each request has a fixed cost worth spreading over fewer, larger ones (the guest's: every
  // request is a VM exit). Elsewhere smaller requests keep the bytes in the cache while they are used.
  virtual bool prefers_large_requests() const { return false; }

 protected:
  // Never deleted through the interface, so no virtual destructor (and no operator delete in the guest).
  ~BlockDevice() = default;
};

// Reads up to `length` bytes at `offset`, zero-filling what lies past the end
// of the device (qemu reads a short image's header this way), and returns the
// number of bytes that came from the device.
Result<size_t> read_zero_padded(BlockDevice& device, uint64_t offset, void* buffer, size_t length);

}  // namespace instar
