// block_status.cc: the file level of block status (qemu's file-posix driver).
#include "core/image/block_status.h"

namespace instar::image {

Result<Status> file_status(BlockDevice& device, uint8_t number, uint64_t offset, uint64_t bytes) {
  uint64_t length = file_length(device.size());
  Status s;
  if (offset >= length) {
    s.flags = kEof;
    return s;
  }
  if (bytes > length - offset) bytes = length - offset;
  s.offset = offset;
  s.file = number;
  if (offset >= device.size()) {
    // The tail qemu rounds the file up to: a hole to the end.
    s.flags = kZero | kOffsetValid;
    s.length = bytes;
  } else {
    INSTAR_TRY_ASSIGN(extent, device.extent(offset));
    if (extent.length == 0) return make_error(Errc::io, "Input/output error");
    uint64_t run = extent.length;
    // A data extent that ends at the end of the file runs on over the
    // rounded-up tail (qemu rounds a data extent up to its request alignment,
    // which is one byte for files; the tail is then a hole of its own).
    if (!extent.data && offset + run >= device.size()) run = length - offset;
    s.flags = (extent.data ? kData : kZero) | kOffsetValid;
    s.length = run < bytes ? run : bytes;
  }
  if (offset + s.length == length) s.flags |= kEof;
  return s;
}

Result<Status> block_status(Layer& layer, uint64_t offset, uint64_t bytes) {
  if (offset >= layer.size) {
    Status eof;
    eof.flags = kEof;
    return eof;
  }
  if (bytes > layer.size - offset) bytes = layer.size - offset;
  INSTAR_TRY_ASSIGN(s, layer.driver_status(offset, bytes));
  if (s.length == 0 || s.length > bytes) return make_error(Errc::io, "Input/output error");
  if (s.flags & kRaw) {
    // A pass-through: the file answers for the same bytes.
    INSTAR_TRY_ASSIGN(below, file_status(*s.device, s.file, s.offset, s.length));
    if (below.flags & (kData | kZero)) below.flags |= kAllocated;
    if (below.length == 0) {
      // Past the end of the file: qemu reports the range as unallocated.
      below.length = s.length;
      below.flags &= ~kEof;
    }
    s = below;
  } else {
    if (s.flags & (kData | kZero)) {
      s.flags |= kAllocated;
    } else if (layer.supports_backing) {
      if (layer.backing == nullptr || offset >= layer.backing->size) s.flags |= kZero;
    }
    if ((s.flags & kRecurse) && s.device != nullptr && (s.flags & kData) && !(s.flags & kZero) &&
        (s.flags & kOffsetValid)) {
      INSTAR_TRY_ASSIGN(file, file_status(*s.device, s.file, s.offset, s.length));
      if ((file.flags & kEof) && (file.length == 0 || (file.flags & kZero))) {
        s.flags |= kZero;
      } else {
        s.length = file.length;
        s.flags |= file.flags & kZero;
      }
    }
  }
  s.flags &= ~(kRecurse | kRaw | kEof);
  if (offset + s.length == layer.size) s.flags |= kEof;
  return s;
}

Result<void> read_chain(Layer& layer, uint64_t offset, uint8_t* out, size_t length) {
  while (length > 0) {
    size_t piece = length;
    if (offset >= layer.size) {
      for (size_t i = 0; i < length; i++) out[i] = 0;
      return ok();
    }
    INSTAR_TRY_ASSIGN(s, block_status(layer, offset, piece));
    if (s.length == 0 || s.length > piece) return make_error(Errc::io, "Input/output error");
    piece = static_cast<size_t>(s.length);
    if (s.flags & kAllocated) {
      INSTAR_TRY(layer.read_allocated(offset, out, piece, s));
    } else if (layer.backing != nullptr && offset < layer.backing->size) {
      uint64_t below = layer.backing->size - offset;
      size_t from_backing = below < piece ? static_cast<size_t>(below) : piece;
      INSTAR_TRY(read_chain(*layer.backing, offset, out, from_backing));
      for (size_t i = from_backing; i < piece; i++) out[i] = 0;
    } else {
      for (size_t i = 0; i < piece; i++) out[i] = 0;
    }
    out += piece;
    offset += piece;
    length -= piece;
  }
  return ok();
}

Result<ChainStatus> chain_status(Layer& top, uint64_t offset, uint64_t bytes) {
  ChainStatus c;
  Layer* layer = &top;
  for (;;) {
    INSTAR_TRY_ASSIGN(s, block_status(*layer, offset, bytes));
    if (s.length == 0) {
      // Past the end of a shorter backing file: block_status above made
      // the upper layer ZERO, so this is not reached; stay defensive.
      return make_error(Errc::io, "Input/output error");
    }
    bytes = s.length;
    c.status = s;
    if (s.flags & (kZero | kData)) break;
    if (layer->backing == nullptr) {
      c.status.flags = 0;
      break;
    }
    layer = layer->backing;
    c.depth++;
  }
  return c;
}

}  // namespace instar::image
