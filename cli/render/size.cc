// size.cc: size_to_str with qemu's rounding rules.
#include "cli/render/size.h"

#include <cmath>
#include <cstdio>

namespace instar::cli {

std::string size_to_str(uint64_t bytes) {
  static const char* const kSuffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  // The exponent of bytes * 1024/1000 picks the unit, so 1000..1023 of a unit
  // already print in the next one ("0.977 KiB").
  int exponent = 0;
  std::frexp(static_cast<double>(bytes) / (1000.0 / 1024.0), &exponent);
  int unit = (exponent - 1) / 10;
  if (unit < 0) unit = 0;
  if (unit > 6) unit = 6;
  uint64_t divisor = uint64_t{1} << (unit * 10);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%0.3g %sB", static_cast<double>(bytes) / static_cast<double>(divisor),
                kSuffixes[unit]);
  return buf;
}

}  // namespace instar::cli
