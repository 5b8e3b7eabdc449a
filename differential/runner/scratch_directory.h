// scratch_directory.h: a private temporary directory removed on destruction unless kept.
#pragma once

#include <filesystem>
#include <string_view>

namespace instar::diff {

class ScratchDirectory {
 public:
  // Creates parent/<prefix>XXXXXX with mode 0700; throws std::system_error.
  ScratchDirectory(const std::filesystem::path& parent, std::string_view prefix);
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  ~ScratchDirectory();

  const std::filesystem::path& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

// $TMPDIR, or /tmp.
std::filesystem::path default_temp_root();

}  // namespace instar::diff
