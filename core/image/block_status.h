// block_status.h: what a range of a virtual disk holds, in the terms of qemu's
// block layer (BDRV_BLOCK_*), so that map, convert, compare and measure see
// the same extents qemu-img sees.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/result.h"
#include "core/io/block_device.h"

namespace instar::image {

enum StatusFlag : uint32_t {
  kData = 1u << 0,         // reads come from this layer's data
  kZero = 1u << 1,         // reads return zeroes
  kOffsetValid = 1u << 2,  // `offset` locates the bytes in device `file`
  kAllocated = 1u << 3,    // this layer decides the content (not a backing file)
  kCompressed = 1u << 4,
  kRecurse = 1u << 5,  // ask the file underneath whether the data is a hole
  kEof = 1u << 6,      // the range reaches the end of the layer
  kRaw = 1u << 7,      // a pass-through: the file underneath answers
};

struct Status {
  uint32_t flags = 0;
  uint64_t length = 0;  // bytes from the queried offset with this status (0 only past the end)
  uint64_t offset = 0;  // with kOffsetValid
  uint8_t file = 0;     // device number with kOffsetValid: 0 the image, n attached[n - 1]
  BlockDevice* device = nullptr;  // that device
};

// The status of a host file (qemu's file driver): data or hole from the
// filesystem, the file's length rounded up to 512 bytes as qemu's block layer
// sees it, bytes past the real end reading as a hole.
Result<Status> file_status(BlockDevice& device, uint8_t number, uint64_t offset, uint64_t bytes);

// One image format over its file: qcow2 or raw. The generic rules qemu's block
// layer adds on top of each driver's answer live in block_status() below.
class Layer {
 public:
  Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // The driver's own answer for [offset, offset + bytes), offset < size(),
  // bytes > 0; its length is at least 1 and at most `bytes`.
  virtual Result<Status> driver_status(uint64_t offset, uint64_t bytes) = 0;
  // The guest-visible bytes of this layer alone where it has them (callers
  // go through read_chain, which asks the backing file for the rest).
  virtual Result<void> read_allocated(uint64_t offset, uint8_t* out, size_t length, const Status& status) = 0;

  uint64_t size = 0;          // virtual length as qemu's block layer sees it
  bool supports_backing = false;
  Layer* backing = nullptr;

 protected:
  ~Layer() = default;
};

// qemu's bdrv_co_block_status with want_zero: the driver's answer, made
// ALLOCATED where it decides the content, ZERO where nothing below can supply
// data, and checked against holes in the file for kRecurse answers.
Result<Status> block_status(Layer& layer, uint64_t offset, uint64_t bytes);

// One extent of the whole chain as `qemu-img map` reports it: the status of the
// first layer that has data or zeroes there, and how deep that layer is.
struct ChainStatus {
  Status status;
  uint32_t depth = 0;
};
Result<ChainStatus> chain_status(Layer& top, uint64_t offset, uint64_t bytes);

// The guest-visible bytes [offset, offset + length) of `layer` with its
// backing files below it: unallocated ranges come from the backing file, or
// read as zeroes past its end or where there is none.
Result<void> read_chain(Layer& layer, uint64_t offset, uint8_t* out, size_t length);

// The length qemu's block layer gives a file of `size` bytes.
inline uint64_t file_length(uint64_t size) { return (size + 511) / 512 * 512; }

}  // namespace instar::image
