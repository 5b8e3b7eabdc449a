// placeholder.cc: the token that stands for the case's private directory in recorded outputs.
#include "differential/baseline/placeholder.h"

namespace instar::diff {
namespace {

std::string replace_all(const std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  std::string out;
  size_t at = 0;
  for (size_t hit; (hit = text.find(from, at)) != std::string::npos; at = hit + from.size())
    out += text.substr(at, hit - at) + to;
  return out + text.substr(at);
}

}  // namespace

std::string to_placeholder(const std::string& text, const std::string& dir) {
  return replace_all(text, dir, kWorkPlaceholder);
}

std::string from_placeholder(const std::string& text, const std::string& dir) {
  return replace_all(text, kWorkPlaceholder, dir);
}

}  // namespace instar::diff
