// soft_float.h: the few IEEE-754 binary32/binary64 operations qemu's progress
// meter performs, done in integers (the guest is built without FPU/SSE code).
// Round to nearest, ties to even, as the host's SSE arithmetic. Values are bit
// patterns; operands must be finite and non-negative (progress never goes
// below 0), and results stay in the normal range for every input qemu-img's
// progress can produce (1 byte of 2^63 times 100 is far above FLT_MIN).
#pragma once

#include <stdint.h>

namespace instar::softfloat {

using F32 = uint32_t;  // a float's bits
using F64 = uint64_t;  // a double's bits

inline constexpr F32 kF32Zero = 0;
inline constexpr F32 kF32Hundred = 0x42c80000;  // 100.0f
inline constexpr F32 kF32One = 0x3f800000;      // 1.0f
inline constexpr F32 kF32Two = 0x40000000;      // 2.0f

F32 f32_from_u64(uint64_t v);
F64 f64_from_u64(uint64_t v);
F32 f32_from_f64(F64 v);
F32 f32_add(F32 a, F32 b);
F32 f32_mul(F32 a, F32 b);
F32 f32_div(F32 a, F32 b);  // b must not be zero
F64 f64_mul(F64 a, F64 b);
F64 f64_div(F64 a, F64 b);  // b must not be zero

// a > b for non-negative finite values (their bit patterns order like the values).
inline bool f32_greater(F32 a, F32 b) { return a > b; }

}  // namespace instar::softfloat
