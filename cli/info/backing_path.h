// backing_path.h: how qemu turns a backing file name into the path it opens.
#pragma once

#include <string>

namespace instar::cli {

// path_combine(): a relative `name` is taken relative to the directory of
// `base` (the image's name as given); an absolute one is kept. A "proto:"
// prefix on `base` is respected as qemu does.
std::string combine_backing_path(const std::string& base, const std::string& name);

}  // namespace instar::cli
