// cache_mode.h: qemu-img's -t / -T cache modes (bdrv_parse_cache_mode).
#pragma once

#include <string>

namespace instar::cli {

// Whether qemu accepts `mode`: none, off, directsync, writeback, unsafe, writethrough.
bool valid_cache_mode(const std::string& mode);

}  // namespace instar::cli
