// written_files.h: what an operation left in the files it wrote (size, data/hole layout, digests), recorded
// from the reference and checked against the subject without any qemu-img.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "differential/runner/tree_digest.h"

namespace instar::diff {

// One data extent as SEEK_DATA/SEEK_HOLE report it (what qemu's raw `map` sees), with the SHA-256 of its
// bytes. Everything between extents, and after the last one up to the file's size, is a hole (zeros).
struct DataExtent {
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string sha256;
  bool operator==(const DataExtent&) const = default;
};

struct WrittenFile {
  enum class Kind { file, directory, removed };
  std::string path;  // relative to the work directory
  Kind kind = Kind::file;
  uint64_t size = 0;             // files only
  std::vector<DataExtent> data;  // files only
  bool operator==(const WrittenFile&) const = default;
};

// The data extents of a file with their digests (the file is fsync'ed first). Throws std::system_error.
std::vector<DataExtent> data_extents(const std::filesystem::path& file);

// Every entry a run created, changed (content, size, allocation or mode) or removed, by comparing the
// directory's digest before and after it, described as it is now in `work`; sorted by path.
std::vector<WrittenFile> capture_written_files(const std::filesystem::path& work, const TreeDigest& before,
                                               const TreeDigest& after);

// The subject's run against the record: each recorded entry must be in `work` as recorded (kind, size,
// layout hole for hole, bytes by digest), and every entry the record does not name must be as it was
// before the run. One message per difference, naming the file; empty when they agree.
std::vector<std::string> compare_written_files(const std::vector<WrittenFile>& recorded,
                                               const std::filesystem::path& work, const TreeDigest& before,
                                               const TreeDigest& after);

}  // namespace instar::diff
