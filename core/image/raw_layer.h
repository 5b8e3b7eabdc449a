// raw_layer.h: the raw format as a Layer: a pass-through to its file.
#pragma once

#include "core/image/block_status.h"

namespace instar::image {

class RawLayer final : public Layer {
 public:
  RawLayer() = default;
  ~RawLayer() = default;

  void init(BlockDevice& file, uint8_t number) {
    file_ = &file;
    number_ = number;
    size = file_length(file.size());
  }
  Result<Status> driver_status(uint64_t offset, uint64_t bytes) override {
    Status s;
    s.flags = kRaw | kOffsetValid;
    s.length = bytes;
    s.offset = offset;
    s.file = number_;
    s.device = file_;
    return s;
  }
  Result<void> read_allocated(uint64_t offset, uint8_t* out, size_t length, const Status&) override {
    INSTAR_TRY(read_zero_padded(*file_, offset, out, length));
    return ok();
  }

 private:
  BlockDevice* file_ = nullptr;
  uint8_t number_ = 0;
};

}  // namespace instar::image
