// size_option.cc: qemu_strtosz, exact 64.64 fixed-point scaling included.
#include "cli/size_option.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace instar::cli {

namespace {

int64_t suffix_multiplier(char c) {
  switch (c) {
    case 'B':
    case 'b':
      return 1;
    case 'K':
    case 'k':
      return int64_t{1} << 10;
    case 'M':
    case 'm':
      return int64_t{1} << 20;
    case 'G':
    case 'g':
      return int64_t{1} << 30;
    case 'T':
    case 't':
      return int64_t{1} << 40;
    case 'P':
    case 'p':
      return int64_t{1} << 50;
    case 'E':
    case 'e':
      return int64_t{1} << 60;
    default:
      return -1;
  }
}

}  // namespace

SizeParse parse_qemu_size(const std::string& text, bool qemu_10, uint64_t& out) {
  const char* nptr = text.c_str();
  char* endptr = nullptr;
  errno = 0;
  unsigned long long val = std::strtoull(nptr, &endptr, 10);
  if (endptr == nptr) return SizeParse::invalid;
  if (errno == ERANGE) return SizeParse::range;
  if (std::memchr(nptr, '-', static_cast<size_t>(endptr - nptr)) != nullptr)
    return qemu_10 ? SizeParse::range : SizeParse::invalid;
  uint64_t valf = 0;
  if (val == 0 && (*endptr == 'x' || *endptr == 'X')) {
    errno = 0;
    val = std::strtoull(nptr, &endptr, 16);
    if (errno == ERANGE) return SizeParse::range;
    if (*endptr == '.' || suffix_multiplier(*endptr) > 0) return SizeParse::invalid;
  } else if (*endptr == '.') {
    char* fend = nullptr;
    errno = 0;
    double fraction = std::strtod(endptr, &fend);
    if (fend == endptr || errno != 0 || !(fraction >= 0 && fraction < 1)) return SizeParse::invalid;
    endptr = fend;
    valf = static_cast<uint64_t>(fraction * 0x1p64);
  }
  int64_t mul = suffix_multiplier(*endptr);
  if (mul > 0) {
    endptr++;
  } else {
    mul = 1;
  }
  if (*endptr != '\0') return SizeParse::invalid;
  if (mul == 1) {
    if (valf != 0) return SizeParse::invalid;
  } else {
    unsigned __int128 whole = static_cast<unsigned __int128>(val) * static_cast<uint64_t>(mul);
    unsigned __int128 part = static_cast<unsigned __int128>(valf) * static_cast<uint64_t>(mul);
    whole += part >> 64;
    if (static_cast<uint64_t>(part) != 0) whole += 1;  // any remainder rounds up
    if ((whole >> 64) != 0) return SizeParse::range;
    val = static_cast<unsigned long long>(whole);
  }
  out = val;
  return SizeParse::ok;
}

std::optional<int64_t> cvtnum(const Program& program, const std::string& name, const std::string& value,
                              int64_t min, int64_t max) {
  bool qemu_10 = program.profile.major >= 10;
  uint64_t result = 0;
  SizeParse r = parse_qemu_size(value, qemu_10, result);
  if (r == SizeParse::invalid) {
    if (qemu_10) {
      report_error(program, "Invalid " + name + " specified: '" + value + "'.");
    } else {
      report_error(program, "Invalid " + name + " specified. You may use k, M, G, T, P or E suffixes for");
      report_error(program, "kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
    }
    return std::nullopt;
  }
  if (r == SizeParse::range || result > static_cast<uint64_t>(max) || static_cast<int64_t>(result) < min) {
    report_error(program, "Invalid " + name + " specified. Must be between " + std::to_string(min) + " and " +
                              std::to_string(max) + ".");
    return std::nullopt;
  }
  return static_cast<int64_t>(result);
}

}  // namespace instar::cli
