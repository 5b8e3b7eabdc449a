// tree_digest.cc: walk a directory and fingerprint each entry; compare two fingerprints.
#include "differential/runner/tree_digest.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <vector>

namespace instar::diff {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;
constexpr uint64_t kGoldenPrime = 0x9e3779b97f4a7c15ull;

uint64_t fnv1a(uint64_t hash, const unsigned char* data, size_t n) {
  for (size_t i = 0; i < n; i++) hash = (hash ^ data[i]) * kFnvPrime;
  return hash;
}

// Hashes a file's bytes a 64-bit word at a time (images are hashed several times
// per operation, so byte-at-a-time FNV would dominate a replay). Each step is a
// bijection of the state for a given word, so changing any one word changes the hash.
class ContentHasher {
 public:
  void feed(const unsigned char* data, size_t n) {
    length_ += n;
    while (n > 0 && pending_size_ > 0) {
      pending_[pending_size_++] = *data++;
      n--;
      if (pending_size_ == 8) {
        mix_word(pending_);
        pending_size_ = 0;
      }
    }
    for (; n >= 8; data += 8, n -= 8) mix_word(data);
    for (; n > 0; n--) pending_[pending_size_++] = *data++;
  }
  uint64_t finish() const {
    uint64_t h = fnv1a(state_, pending_, pending_size_);
    return fnv1a(h, reinterpret_cast<const unsigned char*>(&length_), sizeof length_);
  }

 private:
  void mix_word(const unsigned char* p) {
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t x = state_ ^ w;
    state_ = ((x << 31) | (x >> 33)) * kGoldenPrime;
  }

  uint64_t state_ = kFnvOffset;
  uint64_t length_ = 0;
  unsigned char pending_[8] = {};
  size_t pending_size_ = 0;
};

// Hashes the non-zero 4 KiB blocks with their offsets, walking only the data extents: a TiB-scale
// sparse image costs what its data costs, and equal content hashes equal whatever the allocation.
uint64_t hash_file(const std::filesystem::path& file) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "opening " + file.string());
  constexpr size_t kBlock = 4096;
  std::vector<unsigned char> buffer(1u << 20);
  ContentHasher hasher;
  off_t size = lseek(fd, 0, SEEK_END);
  off_t pos = 0;
  while (size > 0 && pos < size) {
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;  // ENXIO: only a hole is left
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0) hole = size;
    for (off_t at = data / kBlock * kBlock; at < hole;) {
      size_t want = static_cast<size_t>(std::min<off_t>(static_cast<off_t>(buffer.size()), hole - at));
      ssize_t got = pread(fd, buffer.data(), want, at);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        int e = errno;
        close(fd);
        throw std::system_error(e, std::generic_category(), "reading " + file.string());
      }
      if (got == 0) break;
      for (size_t off = 0; off < static_cast<size_t>(got); off += kBlock) {
        size_t n = std::min(kBlock, static_cast<size_t>(got) - off);
        const unsigned char* p = buffer.data() + off;
        bool zero = p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
        if (zero) continue;
        uint64_t where = static_cast<uint64_t>(at) + off;
        hasher.feed(reinterpret_cast<const unsigned char*>(&where), sizeof where);
        hasher.feed(p, n);
      }
      at += got;
    }
    pos = hole;
  }
  uint64_t length = static_cast<uint64_t>(size < 0 ? 0 : size);
  close(fd);
  hasher.feed(reinterpret_cast<const unsigned char*>(&length), sizeof length);
  return hasher.finish();
}

void walk(const std::filesystem::path& dir, const std::string& prefix, TreeDigest& out) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = prefix + entry.path().filename().string();
    struct stat st;
    if (lstat(entry.path().c_str(), &st) != 0) {
      throw std::system_error(errno, std::generic_category(), "examining " + entry.path().string());
    }
    EntryDigest d;
    d.mode = st.st_mode & 07777;
    if (S_ISREG(st.st_mode)) {
      d.kind = EntryDigest::Kind::file;
      d.size = static_cast<uint64_t>(st.st_size);
      d.allocated = static_cast<uint64_t>(st.st_blocks) * 512;
      d.content_hash = hash_file(entry.path());
    } else if (S_ISDIR(st.st_mode)) {
      d.kind = EntryDigest::Kind::directory;
    } else if (S_ISLNK(st.st_mode)) {
      d.kind = EntryDigest::Kind::symlink;
      std::string target = std::filesystem::read_symlink(entry.path()).string();
      d.content_hash =
          fnv1a(kFnvOffset, reinterpret_cast<const unsigned char*>(target.data()), target.size());
    }
    out[name] = d;
    if (d.kind == EntryDigest::Kind::directory) walk(entry.path(), name + "/", out);
  }
}

std::string kind_name(EntryDigest::Kind kind) {
  switch (kind) {
    case EntryDigest::Kind::file:
      return "file";
    case EntryDigest::Kind::directory:
      return "directory";
    case EntryDigest::Kind::symlink:
      return "symlink";
    case EntryDigest::Kind::other:
      return "special file";
  }
  return "?";
}

std::string describe_difference(const EntryDigest& a, const EntryDigest& b, TreeDiffScope scope) {
  if (a.kind != b.kind) return "turned from a " + kind_name(a.kind) + " into a " + kind_name(b.kind);
  std::string what;
  auto add = [&what](const std::string& part) { what += (what.empty() ? "" : ", ") + part; };
  if (a.size != b.size) add("size " + std::to_string(a.size) + " -> " + std::to_string(b.size));
  if (a.content_hash != b.content_hash) add("content changed");
  if (scope == TreeDiffScope::content) return what;
  if (a.allocated != b.allocated) {
    add("allocation " + std::to_string(a.allocated) + " -> " + std::to_string(b.allocated) + " bytes");
  }
  if (a.mode != b.mode) {
    char modes[32];
    snprintf(modes, sizeof modes, "mode %04o -> %04o", a.mode, b.mode);
    add(modes);
  }
  return what;
}

}  // namespace

TreeDigest digest_tree(const std::filesystem::path& root) {
  TreeDigest out;
  walk(root, "", out);
  return out;
}

std::vector<TreeChange> diff_trees(const TreeDigest& before, const TreeDigest& after, TreeDiffScope scope) {
  std::vector<TreeChange> changes;
  for (const auto& [path, digest] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      changes.push_back({path, "removed"});
    } else if (std::string what = describe_difference(digest, it->second, scope); !what.empty()) {
      changes.push_back({path, what});
    }
  }
  for (const auto& [path, digest] : after) {
    if (before.find(path) == before.end()) changes.push_back({path, "created"});
  }
  return changes;
}

}  // namespace instar::diff
