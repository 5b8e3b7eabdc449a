// The integer float operations against the host's own (SSE) arithmetic.
#include "core/base/soft_float.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>

namespace instar::softfloat {
namespace {

F32 bits(float v) {
  F32 b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
F64 bits(double v) {
  F64 b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
float value(F32 b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}
double value(F64 b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// Integers of every magnitude, from 1 up to 2^63 and beyond 2^53 / 2^24 where rounding starts.
uint64_t random_integer(std::mt19937_64& rng) {
  int width = static_cast<int>(rng() % 64) + 1;
  uint64_t v = rng() >> (64 - width);
  return v == 0 ? 1 : v;
}

// Non-negative floats between 2^-60 and 2^61, so that products and quotients stay normal (the
// contract); every progress value lies in that range.
float random_float(std::mt19937_64& rng) {
  uint32_t exponent = 127 - 60 + static_cast<uint32_t>(rng() % 121);
  uint32_t fraction = static_cast<uint32_t>(rng()) & 0x7fffff;
  return value(static_cast<F32>((exponent << 23) | fraction));
}

TEST(SoftFloat, ConstantsAreTheFloatsTheyName) {
  EXPECT_EQ(kF32Hundred, bits(100.0f));
  EXPECT_EQ(kF32One, bits(1.0f));
  EXPECT_EQ(kF32Two, bits(2.0f));
  EXPECT_EQ(kF32Zero, bits(0.0f));
}

TEST(SoftFloat, IntegerConversionsRoundLikeTheHost) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200000; i++) {
    uint64_t v = random_integer(rng);
    ASSERT_EQ(f32_from_u64(v), bits(static_cast<float>(v))) << v;
    ASSERT_EQ(f64_from_u64(v), bits(static_cast<double>(v))) << v;
  }
  // Exact ties: 2^24 + 1 and 2^53 + 1 round to even, 2^24 + 3 rounds up.
  for (uint64_t v : {0ull, 1ull, 16777217ull, 16777219ull, 9007199254740993ull, 9007199254740995ull, ~0ull}) {
    EXPECT_EQ(f32_from_u64(v), bits(static_cast<float>(v))) << v;
    EXPECT_EQ(f64_from_u64(v), bits(static_cast<double>(v))) << v;
  }
}

TEST(SoftFloat, SingleArithmeticMatchesTheHost) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 1000000; i++) {
    float a = random_float(rng), b = random_float(rng);
    ASSERT_EQ(f32_add(bits(a), bits(b)), bits(a + b)) << a << " + " << b;
    ASSERT_EQ(f32_mul(bits(a), bits(b)), bits(a * b)) << a << " * " << b;
    ASSERT_EQ(f32_div(bits(a), bits(b)), bits(a / b)) << a << " / " << b;
  }
  EXPECT_EQ(f32_add(kF32Zero, bits(3.5f)), bits(3.5f));
  EXPECT_EQ(f32_add(bits(3.5f), kF32Zero), bits(3.5f));
  EXPECT_EQ(f32_mul(kF32Zero, bits(3.5f)), kF32Zero);
  EXPECT_EQ(f32_div(kF32Zero, bits(3.5f)), kF32Zero);
}

TEST(SoftFloat, AddingSmallDeltasToLargeValuesRoundsLikeTheHost) {
  // The progress meter adds tiny per-chunk deltas to a running total below 100.
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200000; i++) {
    float total = value(bits(1.0f) + static_cast<F32>(rng() % (bits(100.0f) - bits(1.0f))));
    float delta = value(static_cast<F32>((static_cast<uint32_t>(127 - 64 + rng() % 70) << 23) |
                                         (static_cast<uint32_t>(rng()) & 0x7fffff)));
    ASSERT_EQ(f32_add(bits(total), bits(delta)), bits(total + delta)) << total << " + " << delta;
  }
}

TEST(SoftFloat, DoubleArithmeticAndNarrowingMatchTheHost) {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 300000; i++) {
    uint64_t done = random_integer(rng), total = random_integer(rng);
    double product = 100.0 * static_cast<double>(done);
    ASSERT_EQ(f64_mul(bits(100.0), f64_from_u64(done)), bits(product)) << done;
    double quotient = product / static_cast<double>(total);
    ASSERT_EQ(f64_div(bits(product), f64_from_u64(total)), bits(quotient)) << done << " / " << total;
    ASSERT_EQ(f32_from_f64(bits(quotient)), bits(static_cast<float>(quotient))) << quotient;
  }
}

TEST(SoftFloat, NarrowingRoundsTiesToEven) {
  // 1 + 2^-24 is halfway between two floats: it rounds to 1; 1 + 3 * 2^-24 rounds up.
  double tie = 1.0 + 1.0 / 16777216.0, above = 1.0 + 3.0 / 16777216.0;
  EXPECT_EQ(f32_from_f64(bits(tie)), bits(static_cast<float>(tie)));
  EXPECT_EQ(f32_from_f64(bits(above)), bits(static_cast<float>(above)));
}

}  // namespace
}  // namespace instar::softfloat
