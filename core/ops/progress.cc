// progress.cc: qemu_progress_print's rule: print when the value moved more
// than min_skip past the last line printed, or is exactly 0 or 100.
#include "core/ops/progress.h"

namespace instar {

using namespace softfloat;

void ProgressMeter::print(F32 delta, uint32_t max) {
  F32 current;
  if (max == 0) {
    current = delta;
  } else {
    F32 scale = f32_from_u64(max);
    current = f32_add(current_, f32_mul(f32_div(delta, kF32Hundred), scale));
  }
  if (f32_greater(current, kF32Hundred)) current = kF32Hundred;
  current_ = current;
  bool due = f32_greater(current, f32_add(last_print_, min_skip_)) || current == kF32Hundred || current == kF32Zero;
  if (!due) return;
  last_print_ = current_;
  if (!enabled_) return;
  lines_++;
  if (run_count_ > 0 && runs_[run_count_ - 1].value == current) {
    runs_[run_count_ - 1].repeat++;
    return;
  }
  if (run_count_ == kMaxProgressRuns) {
    overflow_ = true;
    return;
  }
  runs_[run_count_++] = Run{current, 1};
}

bool ProgressMeter::write(RecordWriter& out) const {
  if (!enabled_) return true;
  if (overflow_) return false;
  out.begin(kTagProgress);
  for (uint64_t i = 0; i < run_count_; i++) {
    out.put_u64(kTagProgressValue, runs_[i].value);
    out.put_u64(kTagProgressRepeat, runs_[i].repeat);
  }
  out.end(kTagProgress);
  return true;
}

F32 convert_progress_value(uint64_t done_sectors, uint64_t total_sectors) {
  F64 hundred = f64_from_u64(100);
  return f32_from_f64(f64_div(f64_mul(hundred, f64_from_u64(done_sectors)), f64_from_u64(total_sectors)));
}

F32 compare_progress_delta(uint64_t chunk, uint64_t base) {
  return f32_mul(f32_div(f32_from_u64(chunk), f32_from_u64(base)), kF32Hundred);
}

}  // namespace instar
