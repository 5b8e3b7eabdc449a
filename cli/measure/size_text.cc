// size_text.cc: qemu_strtosz for the 7.2 and 10.0 profiles. Both read a
// decimal integer (or 0x hex), an optional fraction and one suffix letter of
// BKMGTPE (any case); they differ in signs, hex suffixes and fraction rounding.
#include "cli/measure/size_text.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace instar::cli {

namespace {

int64_t suffix_multiplier(char c) {
  switch (std::toupper(static_cast<unsigned char>(c))) {
    case 'B': return 1;
    case 'K': return int64_t{1} << 10;
    case 'M': return int64_t{1} << 20;
    case 'G': return int64_t{1} << 30;
    case 'T': return int64_t{1} << 40;
    case 'P': return int64_t{1} << 50;
    case 'E': return int64_t{1} << 60;
    default: return -1;
  }
}

// strtoull with errno; `end` is where it stopped (the start when nothing converted).
bool to_u64(const char* s, int base, uint64_t& value, const char*& end, bool& range) {
  errno = 0;
  char* e = nullptr;
  value = std::strtoull(s, &e, base);
  end = e;
  range = errno == ERANGE;
  return e != s;
}

}  // namespace

ParsedSize parse_qemu_size(const std::string& text, bool modern) {
  ParsedSize r;
  const char* nptr = text.c_str();
  const char* end = nptr;
  uint64_t val = 0;
  bool range = false;
  bool converted = to_u64(nptr, 10, val, end, range);
  // Leading whitespace and a sign are what strtoull skips.
  const char* p = nptr;
  while (std::isspace(static_cast<unsigned char>(*p))) p++;
  bool negative = converted && *p == '-';
  if (!converted) {
    // 10.0 reads a bare fraction (".5k") as zero plus the fraction.
    if (!modern || *nptr != '.') return r;
    val = 0;
    end = nptr;
  }
  if (modern) {
    if (range || negative) {
      r.status = SizeParse::out_of_range;
      return r;
    }
  } else {
    if (range) {
      r.status = SizeParse::out_of_range;
      return r;
    }
    if (negative) return r;
  }
  bool hex = false;
  double fraction = 0;
  bool has_fraction = false;
  if (val == 0 && (*end == 'x' || *end == 'X')) {
    if (!to_u64(nptr, 16, val, end, range)) return r;
    if (range) {
      r.status = SizeParse::out_of_range;
      return r;
    }
    if (*end == '.') return r;
    if (modern && suffix_multiplier(*end) > 0) return r;
    hex = true;
  } else if (*end == '.') {
    const char* f = end;
    const char* digits = f + 1;
    const char* e = digits;
    while (std::isdigit(static_cast<unsigned char>(*e))) e++;
    if (modern) {
      if (e != digits) {
        fraction = std::strtod(std::string(f, e).c_str(), nullptr);
        has_fraction = fraction != 0;
      }
      end = e;
    } else {
      // 7.2 runs strtod over the rest: an exponent makes the whole input invalid.
      char* stop = nullptr;
      errno = 0;
      double value = std::strtod(f, &stop);
      if (stop == f || errno != 0 || !std::isfinite(value)) {
        end = f + 1;
      } else {
        for (const char* c = f; c < stop; c++)
          if (*c == 'e' || *c == 'E') return r;
        fraction = value;
        has_fraction = fraction != 0;
        end = stop;
      }
    }
  }
  int64_t mul = suffix_multiplier(*end);
  if (mul > 0) {
    if (hex && !modern) r.warning = "Using a multiplier suffix on hex numbers is deprecated: " + text;
    end++;
  } else {
    mul = 1;
  }
  if (*end != '\0') return r;
  if (mul == 1 && has_fraction) return r;
  uint64_t m = static_cast<uint64_t>(mul);
  if (modern || has_fraction) {
    // Exact (7.2 rounds the fraction the same way): integer times multiplier plus the fraction (64-bit binary fixed point), 0.5 rounds up.
    unsigned __int128 total = static_cast<unsigned __int128>(val) * m;
    if (has_fraction) {
      uint64_t valf = fraction >= 1.0 ? UINT64_MAX : static_cast<uint64_t>(std::ldexp(fraction, 64));
      unsigned __int128 part = static_cast<unsigned __int128>(valf) * m;
      total += part >> 64;
      total += (static_cast<uint64_t>(part) >> 63);
    }
    if (total >> 64) {
      r.status = SizeParse::out_of_range;
      return r;
    }
    r.value = static_cast<uint64_t>(total);
  } else {
    uint64_t extra = static_cast<uint64_t>(fraction * static_cast<double>(m));
    if (val > (UINT64_MAX - extra) / m) {
      r.status = SizeParse::out_of_range;
      return r;
    }
    r.value = val * m + extra;
  }
  r.status = SizeParse::ok;
  return r;
}

}  // namespace instar::cli
