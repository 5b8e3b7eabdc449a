// rng.h: a small deterministic random source (SplitMix64) so a case depends only on (seed, iteration).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace instar::diff {

// Not std::mt19937 + distributions: their results differ between standard libraries.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t iteration)
      : state_(seed * 0x9E3779B97F4A7C15ull ^ (iteration + 0x632BE59BD9B4E019ull)) {
    next();
  }
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  uint64_t below(uint64_t n) { return next() % n; }
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  // True with probability percent / 100.
  bool chance(unsigned percent) { return below(100) < percent; }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }

 private:
  uint64_t state_;
};

}  // namespace instar::diff
