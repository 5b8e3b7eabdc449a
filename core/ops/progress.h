// progress.h: qemu-img's progress meter (util/qemu-progress.c) replayed in
// soft float, so that the lines `-p` prints and their values come from the
// same walk and the same single-precision arithmetic as qemu-img's.
#pragma once

#include <stdint.h>

#include "core/base/soft_float.h"
#include "core/ops/progress_record.h"
#include "core/record/record.h"

namespace instar {

class ProgressMeter {
 public:
  // qemu_progress_init(enabled, min_skip): min_skip is 1.0 for convert, 2.0 for compare.
  ProgressMeter(bool enabled, softfloat::F32 min_skip) : enabled_(enabled), min_skip_(min_skip) {}

  // qemu_progress_print(delta, max): with max 0, delta is the new value;
  // otherwise the value grows by delta / 100 * max (max is 100 in qemu-img).
  void print(softfloat::F32 delta, uint32_t max);

  // The lines printed so far.
  uint64_t lines() const { return lines_; }

  // Writes the kTagProgress group (nothing when disabled); false if the runs overflowed.
  bool write(RecordWriter& out) const;

 private:
  struct Run {
    softfloat::F32 value;
    uint64_t repeat;
  };

  bool enabled_;
  softfloat::F32 min_skip_;
  softfloat::F32 current_ = softfloat::kF32Zero;
  softfloat::F32 last_print_ = softfloat::kF32Zero;
  Run runs_[kMaxProgressRuns] = {};
  uint64_t run_count_ = 0;
  uint64_t lines_ = 0;
  bool overflow_ = false;
};

// convert's step: 100.0 * done / total computed in double, passed as a float.
softfloat::F32 convert_progress_value(uint64_t done_sectors, uint64_t total_sectors);

// compare's step: ((float) chunk / base) * 100.
softfloat::F32 compare_progress_delta(uint64_t chunk, uint64_t base);

}  // namespace instar
