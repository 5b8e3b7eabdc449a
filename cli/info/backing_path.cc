// backing_path.cc: qemu's path_combine rules.
#include "cli/info/backing_path.h"

namespace instar::cli {

namespace {

// A "protocol:" prefix: a colon that comes before any slash.
bool has_protocol(const std::string& path) {
  size_t colon = path.find(':');
  if (colon == std::string::npos) return false;
  size_t slash = path.find('/');
  return slash == std::string::npos || colon < slash;
}

bool is_absolute(const std::string& path) {
  if (path.empty()) return false;
  if (path[0] == '/') return true;
  // "proto:/x" counts as absolute too.
  size_t colon = path.find(':');
  return colon != std::string::npos && has_protocol(path) && colon + 1 < path.size() &&
         path[colon + 1] == '/';
}

}  // namespace

std::string combine_backing_path(const std::string& base, const std::string& name) {
  if (is_absolute(name)) return name;
  size_t keep = 0;
  if (has_protocol(base)) keep = base.find(':') + 1;
  size_t slash = base.rfind('/');
  if (slash != std::string::npos && slash + 1 > keep) keep = slash + 1;
  return base.substr(0, keep) + name;
}

}  // namespace instar::cli
