// dd.h: the dd operation for a raw output: the window [skip*bs, end) of the
// source chain's guest-visible bytes, every byte written to the output device.
#pragma once

#include "core/base/arena.h"
#include "core/ops/execute.h"
#include "core/record/record.h"

namespace instar {

// The window qemu-img dd copies from a source of `size` bytes: the end is
// min(size, count*bs) (count bounds the absolute end, not the length after
// skip), the start skip*bs; a start past the end copies nothing.
struct DdWindow {
  uint64_t start = 0;
  uint64_t length = 0;
  bool skip_failed = false;
};
DdWindow dd_window(const DdParams& params, uint64_t size);

void run_dd(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out);

}  // namespace instar
