// cache_mode.h: qemu-img's -t / -T cache modes (bdrv_parse_cache_mode).
#pragma once

#include <string>

namespace instar::cli {

// Whether qemu accepts `mode`: none, off, directsync, writeback, unsafe, writethrough.
bool valid_cache_mode(const std::string& mode);

// Whether qemu opens files with O_DIRECT under `mode` (none, off, directsync).
// instar reads through the page cache either way; it only reproduces what such
// an open refuses (docs/compare.md#cache-modes).
bool direct_cache_mode(const std::string& mode);

}  // namespace instar::cli
