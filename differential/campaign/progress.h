// progress.h: the campaign's progress — a live line on a terminal, plain periodic lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace instar::diff {

class Progress {
 public:
  explicit Progress(FILE* to);
  // Prints when due (a terminal: every 0.2 s, rewriting one line; otherwise every 10 s).
  void update(uint64_t iterations, uint64_t operations, size_t new_divergences, size_t known_divergences,
              uint64_t inconclusive, bool final = false);

 private:
  FILE* to_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, last_;
  std::mutex mutex_;
};

}  // namespace instar::diff
