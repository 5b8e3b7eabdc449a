// progress.cc: the campaign's progress — a live line on a terminal, plain periodic lines otherwise.
#include "differential/campaign/progress.h"

#include <unistd.h>

#include <cstdio>

namespace instar::diff {

Progress::Progress(FILE* to)
    : to_(to), terminal_(isatty(fileno(to)) != 0), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(uint64_t iterations, uint64_t operations, size_t fresh, size_t known,
                      uint64_t inconclusive, bool final) {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  auto due = terminal_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(10'000);
  if (!final && now - last_ < due) return;
  last_ = now;
  double seconds = std::chrono::duration<double>(now - start_).count();
  double rate = seconds > 0 ? static_cast<double>(operations) / seconds : 0;
  std::fprintf(to_, "%s[%6.0fs] iterations %llu  ops %llu (%.1f/s)  new %zu  known %zu  inconclusive %llu%s",
               terminal_ ? "\r\033[K" : "", seconds, static_cast<unsigned long long>(iterations),
               static_cast<unsigned long long>(operations), rate, fresh, known,
               static_cast<unsigned long long>(inconclusive), terminal_ && !final ? "" : "\n");
  std::fflush(to_);
}

}  // namespace instar::diff
