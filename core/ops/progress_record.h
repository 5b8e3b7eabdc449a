// progress_record.h: the lines `-p` prints (qemu's util/qemu-progress.c), as
// core replayed them, in the record of convert and compare.
#pragma once

#include <stdint.h>

namespace instar {

// The meter keeps runs of equal lines: every value printed is more than
// min_skip above the last one, except 0 and 100, so a run list of this length
// always suffices (100 / 1% + the zero and hundred runs).
inline constexpr uint64_t kMaxProgressRuns = 128;

enum ProgressTag : uint16_t {
  kTagProgress = 30,        // group: the runs in the order printed
  kTagProgressValue = 31,   // a run's value: a float's bits, printed "    (%3.2f/100%)\r"
  kTagProgressRepeat = 32,  // how many lines in a row print that value (1 or more)
};

}  // namespace instar
