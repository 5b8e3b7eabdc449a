// zstd_xxhash.cc: XXH64 with seed 0, the hash behind a zstd frame's content checksum (RFC 8878 3.1.1).
#include "core/compress/zstd_internal.h"

namespace instar::zstd {

namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull, kPrime2 = 0xC2B2AE3D27D4EB4Full,
                   kPrime3 = 0x165667B19E3779F9ull, kPrime4 = 0x85EBCA77C2B2AE63ull,
                   kPrime5 = 0x27D4EB2F165667C5ull;

inline uint64_t rotl(uint64_t v, unsigned r) { return (v << r) | (v >> (64 - r)); }
inline uint64_t round(uint64_t acc, uint64_t input) { return rotl(acc + input * kPrime2, 31) * kPrime1; }
inline uint64_t merge(uint64_t h, uint64_t v) { return (h ^ round(0, v)) * kPrime1 + kPrime4; }

}  // namespace

uint64_t xxh64(const uint8_t* p, size_t size) {
  const uint8_t* end = p + size;
  uint64_t h;
  if (size >= 32) {
    uint64_t v1 = kPrime1 + kPrime2, v2 = kPrime2, v3 = 0, v4 = 0 - kPrime1;
    for (; end - p >= 32; p += 32) {
      v1 = round(v1, load_le64(p));
      v2 = round(v2, load_le64(p + 8));
      v3 = round(v3, load_le64(p + 16));
      v4 = round(v4, load_le64(p + 24));
    }
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else {
    h = kPrime5;
  }
  h += size;
  for (; end - p >= 8; p += 8) h = rotl(h ^ round(0, load_le64(p)), 27) * kPrime1 + kPrime4;
  if (end - p >= 4) {
    h = rotl(h ^ (uint64_t{load_le32(p)} * kPrime1), 23) * kPrime2 + kPrime3;
    p += 4;
  }
  for (; p < end; p++) h = rotl(h ^ (*p * kPrime5), 11) * kPrime1;
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

}  // namespace instar::zstd
