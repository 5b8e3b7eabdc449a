// written_files.cc: what an operation left in the files it wrote (size, data/hole layout, digests), recorded
// from the reference and checked against the subject without any qemu-img.
#include "differential/baseline/written_files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <system_error>

#include "differential/case/contained_path.h"
#include "differential/common/data_extents.h"
#include "differential/common/sha256.h"
#include "differential/runner/line_diff.h"

namespace instar::diff {
namespace {

class Fd {
 public:
  explicit Fd(const std::filesystem::path& file)
      : fd_(open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "opening " + file.string());
  }
  ~Fd() { close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Calls `chunk(bytes, n)` for the bytes of [offset, offset + length); bytes past the end of the file are
// not delivered. Throws std::system_error.
template <typename Chunk>
void read_range(int fd, uint64_t offset, uint64_t length, Chunk chunk) {
  std::string buffer(std::min<uint64_t>(length, 1u << 20), '\0');
  while (length > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(length, buffer.size()));
    ssize_t got = pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw std::system_error(errno, std::generic_category(), "reading");
    if (got == 0) return;
    chunk(buffer.data(), static_cast<size_t>(got));
    offset += static_cast<uint64_t>(got);
    length -= static_cast<uint64_t>(got);
  }
}

std::string range_digest(int fd, uint64_t offset, uint64_t length) {
  Sha256 hash;
  read_range(fd, offset, length, [&](const char* p, size_t n) { hash.update(p, n); });
  return hash.hex_digest();
}

struct Layout {
  uint64_t size = 0;
  std::vector<DataExtent> data;  // digests empty unless asked for
};

Layout layout_of(int fd, bool digests) {
  fsync(fd);  // delayed allocation settles, as it has when qemu-img map looks at a file later
  struct stat st;
  if (fstat(fd, &st) != 0) throw std::system_error(errno, std::generic_category(), "fstat");
  Layout out;
  out.size = static_cast<uint64_t>(st.st_size);
  for (const DataRange& r : data_ranges(fd, out.size)) {
    DataExtent e{r.offset, r.length, ""};
    if (digests) e.sha256 = range_digest(fd, e.offset, e.length);
    out.data.push_back(std::move(e));
  }
  return out;
}

// The layout one line per stretch, holes included, so a line diff shows where the two differ.
std::string layout_text(const std::vector<DataExtent>& data, uint64_t size) {
  std::string text;
  uint64_t at = 0;
  auto line = [&](const char* kind, uint64_t from, uint64_t to) {
    text += std::string(kind) + " " + std::to_string(from) + "-" + std::to_string(to) + " (" +
            std::to_string(to - from) + " bytes)\n";
  };
  for (const DataExtent& e : data) {
    if (e.offset > at) line("hole", at, e.offset);
    line("data", e.offset, e.offset + e.length);
    at = e.offset + e.length;
  }
  if (size > at) line("hole", at, size);
  return text;
}

bool same_layout(const std::vector<DataExtent>& a, const std::vector<DataExtent>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const DataExtent& x, const DataExtent& y) {
    return x.offset == y.offset && x.length == y.length;
  });
}

// The first non-zero byte the subject has in its data extents outside the reference's, or -1.
int64_t first_stray_byte(int fd, const std::vector<DataExtent>& reference,
                         const std::vector<DataExtent>& subject) {
  for (const DataExtent& s : subject) {
    uint64_t at = s.offset, end = s.offset + s.length;
    while (at < end) {
      // Skip the part of [at, end) a reference extent covers.
      auto covering = std::find_if(reference.begin(), reference.end(), [&](const DataExtent& r) {
        return r.offset <= at && at < r.offset + r.length;
      });
      if (covering != reference.end()) {
        at = covering->offset + covering->length;
        continue;
      }
      uint64_t stop = end;
      for (const DataExtent& r : reference)
        if (r.offset > at && r.offset < stop) stop = r.offset;
      int64_t found = -1;
      uint64_t pos = at;
      read_range(fd, at, stop - at, [&](const char* p, size_t n) {
        if (found >= 0) return;
        for (size_t i = 0; i < n; i++)
          if (p[i] != 0) {
            found = static_cast<int64_t>(pos + i);
            return;
          }
        pos += n;
      });
      if (found >= 0) return found;
      at = stop;
    }
  }
  return -1;
}

void compare_file(const WrittenFile& r, const std::filesystem::path& file, std::vector<std::string>& out) {
  Fd fd(file);
  Layout subject = layout_of(fd.get(), true);
  const std::string& p = r.path;
  if (subject.size != r.size)
    out.push_back(p + ": size differs: reference " + std::to_string(r.size) + ", subject " +
                  std::to_string(subject.size));
  if (!same_layout(r.data, subject.data) || subject.size != r.size)
    if (std::string a = layout_text(r.data, r.size), b = layout_text(subject.data, subject.size); a != b)
      out.push_back(p +
                    ": data/hole layout differs (SEEK_DATA/SEEK_HOLE, as qemu-img map -f raw sees it):\n" +
                    unified_line_diff(a, b, "reference layout", "subject layout"));
  bool aligned = same_layout(r.data, subject.data);
  size_t reported = 0;
  for (size_t i = 0; i < r.data.size(); i++) {
    const DataExtent& e = r.data[i];
    std::string got = aligned ? subject.data[i].sha256 : range_digest(fd.get(), e.offset, e.length);
    if (got == e.sha256) continue;
    if (reported++ < 4)
      out.push_back(p + ": bytes " + std::to_string(e.offset) + "-" + std::to_string(e.offset + e.length) +
                    " differ from the reference's (sha256 " + e.sha256.substr(0, 16) + "…, subject " +
                    got.substr(0, 16) + "…)");
  }
  if (reported > 4) out.push_back(p + ": and " + std::to_string(reported - 4) + " more data extents differ");
  if (!aligned)
    if (int64_t stray = first_stray_byte(fd.get(), r.data, subject.data); stray >= 0)
      out.push_back(p + ": non-zero byte at offset " + std::to_string(stray) +
                    ", where the reference left zeros");
}

}  // namespace

std::vector<DataExtent> data_extents(const std::filesystem::path& file) {
  Fd fd(file);
  return layout_of(fd.get(), true).data;
}

std::vector<WrittenFile> capture_written_files(const std::filesystem::path& work, const TreeDigest& before,
                                               const TreeDigest& after) {
  std::vector<WrittenFile> out;
  for (const TreeChange& c : diff_trees(before, after, TreeDiffScope::everything)) {
    WrittenFile f;
    f.path = c.path;
    auto it = after.find(c.path);
    if (it == after.end()) {
      f.kind = WrittenFile::Kind::removed;
    } else if (it->second.kind == EntryDigest::Kind::directory) {
      f.kind = WrittenFile::Kind::directory;
    } else if (it->second.kind == EntryDigest::Kind::file) {
      Fd fd(work / c.path);
      Layout l = layout_of(fd.get(), true);
      f.size = l.size;
      f.data = std::move(l.data);
    } else {
      throw std::runtime_error(c.path +
                               ": the operation left a symlink or special file, which a record cannot hold");
    }
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const WrittenFile& a, const WrittenFile& b) { return a.path < b.path; });
  return out;
}

std::vector<std::string> compare_written_files(const std::vector<WrittenFile>& recorded,
                                               const std::filesystem::path& work, const TreeDigest& before,
                                               const TreeDigest& after) {
  std::vector<std::string> out;
  std::set<std::string> named;
  for (const WrittenFile& r : recorded) {
    named.insert(r.path);
    if (std::string why = why_not_contained(r.path); !why.empty()) {
      out.push_back(r.path + ": the record names a path outside the work directory (" + why + ")");
      continue;
    }
    auto it = after.find(r.path);
    if (r.kind == WrittenFile::Kind::removed) {
      if (it != after.end()) out.push_back(r.path + ": the reference removed it, the subject left it");
      continue;
    }
    if (it == after.end()) {
      out.push_back(r.path + ": only the reference left it");
      continue;
    }
    bool is_dir = it->second.kind == EntryDigest::Kind::directory;
    bool is_file = it->second.kind == EntryDigest::Kind::file;
    if (r.kind == WrittenFile::Kind::directory) {
      if (!is_dir) out.push_back(r.path + ": the reference left a directory, the subject something else");
      continue;
    }
    if (!is_file) {
      out.push_back(r.path + ": the reference left a regular file, the subject something else");
      continue;
    }
    try {
      compare_file(r, work / r.path, out);
    } catch (const std::exception& e) {
      out.push_back(r.path + ": " + e.what());
    }
  }
  for (const TreeChange& c : diff_trees(before, after, TreeDiffScope::everything)) {
    if (named.count(c.path)) continue;
    if (c.what == "created")
      out.push_back(c.path + ": only the subject left it");
    else if (c.what == "removed")
      out.push_back(c.path + ": the subject removed it, the reference left it as it was");
    else
      out.push_back(c.path + ": the subject changed it (" + c.what + "), the reference left it as it was");
  }
  return out;
}

}  // namespace instar::diff
