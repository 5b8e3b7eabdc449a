// cache_mode.cc: the cache mode names qemu's bdrv_parse_cache_mode accepts.
#include "cli/cache_mode.h"

namespace instar::cli {

bool valid_cache_mode(const std::string& mode) {
  for (const char* m : {"none", "off", "directsync", "writeback", "unsafe", "writethrough"})
    if (mode == m) return true;
  return false;
}

bool direct_cache_mode(const std::string& mode) {
  return mode == "none" || mode == "off" || mode == "directsync";
}

}  // namespace instar::cli
