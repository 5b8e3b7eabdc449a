// progress_lines.cc: bounded decoding of the progress runs and qemu's line format.
#include "cli/progress/progress_lines.h"

#include <cstring>

#include "core/ops/progress_record.h"

namespace instar::cli {

namespace {

constexpr uint32_t kHundredBits = 0x42c80000;  // 100.0f; every float from +0 up to it has smaller bits

}  // namespace

Result<ProgressLines> decode_progress(const RecordField& root) {
  auto bad = [](const char* why) { return make_error(Errc::invalid, why); };
  ProgressLines lines;
  auto groups = root.find_all(kTagProgress);
  if (groups.empty()) return lines;
  if (groups.size() > 1) return bad("result record has more than one progress group");
  const RecordField& group = *groups[0];
  if (!group.is_group) return bad("result record progress is not a group");
  if (group.children.size() % 2 != 0) return bad("result record progress run is incomplete");
  if (group.children.size() / 2 > kMaxProgressRuns) return bad("result record has too many progress runs");
  for (size_t i = 0; i < group.children.size(); i += 2) {
    const RecordField& value = group.children[i];
    const RecordField& repeat = group.children[i + 1];
    if (value.tag != kTagProgressValue || !value.is_u64 || repeat.tag != kTagProgressRepeat || !repeat.is_u64)
      return bad("result record progress run is malformed");
    if (value.u64 > kHundredBits) return bad("result record progress value is out of range");
    if (repeat.u64 == 0) return bad("result record progress run is empty");
    if (!lines.runs.empty() && value.u64 <= lines.runs.back().value)
      return bad("result record progress goes backwards");
    if (__builtin_add_overflow(lines.total, repeat.u64, &lines.total))
      return bad("result record progress line count overflows");
    lines.runs.push_back(ProgressRun{static_cast<uint32_t>(value.u64), repeat.u64});
  }
  return lines;
}

std::string progress_line(uint32_t value) {
  float f;
  std::memcpy(&f, &value, sizeof f);
  char text[64];
  std::snprintf(text, sizeof text, "    (%3.2f/100%%)\r", static_cast<double>(f));
  return text;
}

std::string progress_start_line() { return progress_line(0); }

void print_progress(const ProgressLines& lines, uint64_t from, uint64_t to, std::FILE* out) {
  uint64_t at = 0;
  for (const ProgressRun& run : lines.runs) {
    if (at >= to) break;
    std::string line = progress_line(run.value);
    for (uint64_t i = 0; i < run.repeat && at < to; i++, at++)
      if (at >= from) std::fwrite(line.data(), 1, line.size(), out);
  }
  // Before any message on stderr, as qemu-img's lines are (it flushes each one).
  std::fflush(out);
}

}  // namespace instar::cli
