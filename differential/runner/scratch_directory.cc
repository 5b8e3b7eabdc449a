// scratch_directory.cc: a private temporary directory removed on destruction unless kept.
#include "differential/runner/scratch_directory.h"

#include <errno.h>
#include <stdlib.h>

#include <string>
#include <system_error>

namespace instar::diff {

ScratchDirectory::ScratchDirectory(const std::filesystem::path& parent, std::string_view prefix) {
  std::string pattern = (parent / (std::string(prefix) + "XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot create a directory under " + parent.string());
  }
  path_ = pattern;
}

ScratchDirectory::~ScratchDirectory() {
  if (keep_) return;
  std::error_code ignored;
  // Files a case made read-only must not keep their directory alive.
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
                               ignored);
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path default_temp_root() {
  const char* tmpdir = getenv("TMPDIR");
  if (tmpdir != nullptr && tmpdir[0] == '/') return tmpdir;
  return "/tmp";
}

}  // namespace instar::diff
