// soft_float.cc: exact result, then one rounding to the format's precision.
#include "core/base/soft_float.h"

namespace instar::softfloat {

namespace {

using U128 = unsigned __int128;

struct Format {
  int precision;      // significand bits, the implicit one included
  int fraction_bits;  // stored significand bits
  int bias;
  int max_biased;     // the all-ones exponent (infinity)
};

constexpr Format kSingle{24, 23, 127, 255};
constexpr Format kDouble{53, 52, 1023, 2047};

// A non-negative value significand * 2^exponent, plus a non-zero part below
// the significand's last bit when `sticky` is set.
struct Exact {
  U128 significand = 0;
  int exponent = 0;
  bool sticky = false;
};

int bit_length(U128 v) {
  uint64_t high = static_cast<uint64_t>(v >> 64), low = static_cast<uint64_t>(v);
  if (high != 0) return 128 - __builtin_clzll(high);
  if (low != 0) return 64 - __builtin_clzll(low);
  return 0;
}

// Rounds to nearest, ties to even, and encodes. Callers pass at least
// precision + 2 bits whenever `sticky` is set.
uint64_t pack(Exact x, const Format& f) {
  if (x.significand == 0) return 0;
  int n = bit_length(x.significand);
  uint64_t mantissa;
  int exponent = x.exponent;
  if (n > f.precision) {
    int shift = n - f.precision;
    U128 low = x.significand & ((U128(1) << shift) - 1);
    U128 half = U128(1) << (shift - 1);
    mantissa = static_cast<uint64_t>(x.significand >> shift);
    exponent += shift;
    bool up = low > half || (low == half && (x.sticky || (mantissa & 1) != 0));
    if (up) {
      mantissa++;
      if (mantissa == (uint64_t(1) << f.precision)) {
        mantissa >>= 1;
        exponent++;
      }
    }
  } else {
    mantissa = static_cast<uint64_t>(x.significand) << (f.precision - n);
    exponent -= f.precision - n;
  }
  int biased = exponent + f.fraction_bits + f.bias;
  if (biased <= 0) return 0;  // below the normal range: out of scope (see the header)
  if (biased >= f.max_biased) return static_cast<uint64_t>(f.max_biased) << f.fraction_bits;
  return (static_cast<uint64_t>(biased) << f.fraction_bits) | (mantissa & ((uint64_t(1) << f.fraction_bits) - 1));
}

struct Unpacked {
  uint64_t mantissa = 0;  // 0, or normalised so that bit fraction_bits is set
  int exponent = 0;
};

Unpacked unpack(uint64_t bits, const Format& f) {
  Unpacked u;
  int biased = static_cast<int>(bits >> f.fraction_bits);
  uint64_t fraction = bits & ((uint64_t(1) << f.fraction_bits) - 1);
  if (biased == 0) {
    if (fraction == 0) return u;
    u.mantissa = fraction;
    u.exponent = 1 - f.bias - f.fraction_bits;
    while ((u.mantissa >> f.fraction_bits) == 0) {
      u.mantissa <<= 1;
      u.exponent--;
    }
    return u;
  }
  u.mantissa = fraction | (uint64_t(1) << f.fraction_bits);
  u.exponent = biased - f.bias - f.fraction_bits;
  return u;
}

uint64_t add(uint64_t a, uint64_t b, const Format& f) {
  Unpacked x = unpack(a, f), y = unpack(b, f);
  if (x.mantissa == 0) return b;
  if (y.mantissa == 0) return a;
  if (x.exponent < y.exponent) {
    Unpacked t = x;
    x = y;
    y = t;
  }
  int d = x.exponent - y.exponent;
  Exact e;
  if (d <= 64) {
    e.significand = (U128(x.mantissa) << d) + y.mantissa;
    e.exponent = y.exponent;
  } else {
    // The smaller addend lies far below the rounding bit: it only makes the sum inexact.
    e.significand = U128(x.mantissa) << 4;
    e.exponent = x.exponent - 4;
    e.sticky = true;
  }
  return pack(e, f);
}

uint64_t mul(uint64_t a, uint64_t b, const Format& f) {
  Unpacked x = unpack(a, f), y = unpack(b, f);
  if (x.mantissa == 0 || y.mantissa == 0) return 0;
  Exact e;
  e.significand = U128(x.mantissa) * y.mantissa;
  e.exponent = x.exponent + y.exponent;
  return pack(e, f);
}

uint64_t div(uint64_t a, uint64_t b, const Format& f) {
  Unpacked x = unpack(a, f), y = unpack(b, f);
  if (x.mantissa == 0 || y.mantissa == 0) return 0;  // b == 0 is outside the contract
  // Long division, precision + 3 quotient bits past the first: enough to round.
  const int steps = f.precision + 3;
  uint64_t quotient = x.mantissa / y.mantissa;
  uint64_t remainder = x.mantissa % y.mantissa;
  for (int i = 0; i < steps; i++) {
    quotient <<= 1;
    remainder <<= 1;
    if (remainder >= y.mantissa) {
      remainder -= y.mantissa;
      quotient |= 1;
    }
  }
  Exact e;
  e.significand = quotient;
  e.exponent = x.exponent - y.exponent - steps;
  e.sticky = remainder != 0;
  return pack(e, f);
}

}  // namespace

F32 f32_from_u64(uint64_t v) {
  Exact e;
  e.significand = v;
  return static_cast<F32>(pack(e, kSingle));
}

F64 f64_from_u64(uint64_t v) {
  Exact e;
  e.significand = v;
  return pack(e, kDouble);
}

F32 f32_from_f64(F64 v) {
  Unpacked u = unpack(v, kDouble);
  Exact e;
  e.significand = u.mantissa;
  e.exponent = u.exponent;
  return static_cast<F32>(pack(e, kSingle));
}

F32 f32_add(F32 a, F32 b) { return static_cast<F32>(add(a, b, kSingle)); }
F32 f32_mul(F32 a, F32 b) { return static_cast<F32>(mul(a, b, kSingle)); }
F32 f32_div(F32 a, F32 b) { return static_cast<F32>(div(a, b, kSingle)); }
F64 f64_mul(F64 a, F64 b) { return mul(a, b, kDouble); }
F64 f64_div(F64 a, F64 b) { return div(a, b, kDouble); }

}  // namespace instar::softfloat
