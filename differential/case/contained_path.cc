// contained_path.cc: the rule that keeps a case's file steps inside its private directory.
#include "differential/case/contained_path.h"

namespace instar::diff {

std::string why_not_contained(std::string_view path) {
  if (path.empty()) return "is empty";
  if (path.front() == '/') return "is absolute";
  if (path.find('\0') != std::string_view::npos) return "contains a NUL byte";
  bool names_something = false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (component == "..") return "contains a \"..\" component";
    if (!component.empty() && component != ".") names_something = true;
    start = end + 1;
  }
  if (!names_something) return "names the case directory itself";
  return "";
}

}  // namespace instar::diff
