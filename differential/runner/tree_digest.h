// tree_digest.h: a fingerprint of every file in a directory, to see what an operation changed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace instar::diff {

struct EntryDigest {
  enum class Kind { file, directory, symlink, other };
  Kind kind = Kind::other;
  uint64_t size = 0;
  uint64_t allocated = 0;     // bytes the filesystem reports in use (st_blocks * 512)
  uint64_t content_hash = 0;  // 64-bit hash of the bytes, or of the link target
  uint32_t mode = 0;
  bool operator==(const EntryDigest&) const = default;
};

// Keyed by path relative to the root ("img.qcow2", "sub/base.qcow2"); the root itself is not listed.
using TreeDigest = std::map<std::string, EntryDigest>;

// Throws std::system_error if the tree cannot be read.
TreeDigest digest_tree(const std::filesystem::path& root);

struct TreeChange {
  std::string path;
  std::string what;  // "created", "removed", "content changed", "size 100 -> 200", ...
};
// Content: kind, size and bytes. Everything: also allocation and mode bits.
enum class TreeDiffScope { content, everything };
std::vector<TreeChange> diff_trees(const TreeDigest& before, const TreeDigest& after,
                                   TreeDiffScope scope = TreeDiffScope::everything);

}  // namespace instar::diff
