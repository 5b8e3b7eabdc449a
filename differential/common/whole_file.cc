// whole_file.cc: binary read of a whole file.
#include "differential/common/whole_file.h"

#include <fstream>
#include <sstream>

namespace instar::diff {

std::optional<std::string> read_whole_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace instar::diff
