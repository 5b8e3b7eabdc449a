// progress_lines.h: the progress lines of convert -p / compare -p, decoded from
// the result record (hostile input) and printed as qemu-img prints them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/record_decoder.h"
#include "core/base/result.h"

namespace instar::cli {

struct ProgressRun {
  uint32_t value = 0;   // a float's bits, 0.0 to 100.0
  uint64_t repeat = 1;  // lines in a row with that value
};

struct ProgressLines {
  std::vector<ProgressRun> runs;
  uint64_t total = 0;  // lines over all runs
};

// Decodes the kTagProgress group of `root`; no group means no lines. Rejects a
// malformed group, more than kMaxProgressRuns runs, a value that is not a float
// between 0 and 100, a repeat of 0, a run equal to or below the one before it
// (qemu's meter never goes back), and a line count that overflows.
Result<ProgressLines> decode_progress(const RecordField& root);

// "    (%3.2f/100%)\r", qemu's util/qemu-progress.c line.
std::string progress_line(uint32_t value);

// qemu's first line, "    (0.00/100%)\r".
std::string progress_start_line();

// Prints lines [from, to) of `lines` (counted over the repeats) to `out`.
void print_progress(const ProgressLines& lines, uint64_t from, uint64_t to, std::FILE* out);

// qemu_progress_end(): the newline that ends the meter, printed when the
// command returns, whichever way (once qemu-img's meter has started).
class ProgressEnd {
 public:
  explicit ProgressEnd(bool enabled) : enabled_(enabled) {}
  ~ProgressEnd() {
    if (enabled_) std::fputs("\n", stdout);
  }
  ProgressEnd(const ProgressEnd&) = delete;
  ProgressEnd& operator=(const ProgressEnd&) = delete;

 private:
  bool enabled_;
};

}  // namespace instar::cli
