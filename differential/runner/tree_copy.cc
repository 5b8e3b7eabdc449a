// tree_copy.cc: extent-aware copy (FIEMAP, then SEEK_DATA/SEEK_HOLE, then plain) of files and trees.
#include "differential/runner/tree_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace instar::diff {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

void copy_range(int in, int out, uint64_t begin, uint64_t end, const std::string& name) {
  std::vector<char> buffer(1u << 20);
  while (begin < end) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), end - begin));
    ssize_t got = pread(in, buffer.data(), want, static_cast<off_t>(begin));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw_errno("reading " + name);
    if (got == 0) return;  // the file shrank under us; the size was set already
    size_t done = 0;
    while (done < static_cast<size_t>(got)) {
      ssize_t put = pwrite(out, buffer.data() + done, static_cast<size_t>(got) - done,
                           static_cast<off_t>(begin + done));
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) throw_errno("writing a copy of " + name);
      done += static_cast<size_t>(put);
    }
    begin += static_cast<uint64_t>(got);
  }
}

void preallocate(int out, uint64_t begin, uint64_t end, const std::string& name) {
  if (end <= begin) return;
  if (fallocate(out, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(begin), static_cast<off_t>(end - begin)) != 0 &&
      errno != EOPNOTSUPP) {
    throw_errno("preallocating in a copy of " + name);
  }
}

// Data extents are copied, unwritten (fallocated) extents are fallocated, holes stay holes.
bool copy_by_fiemap(int in, int out, uint64_t size, const std::string& name) {
  constexpr unsigned kBatch = 128;
  std::vector<unsigned char> storage(sizeof(struct fiemap) + kBatch * sizeof(struct fiemap_extent));
  uint64_t next = 0;
  bool first = true;
  for (;;) {
    std::fill(storage.begin(), storage.end(), 0);
    auto* map = reinterpret_cast<struct fiemap*>(storage.data());
    map->fm_start = next;
    map->fm_length = FIEMAP_MAX_OFFSET - next;
    map->fm_flags = first ? FIEMAP_FLAG_SYNC : 0;
    map->fm_extent_count = kBatch;
    if (ioctl(in, FS_IOC_FIEMAP, map) != 0) {
      if (first) return false;
      throw_errno("mapping extents of " + name);
    }
    first = false;
    if (map->fm_mapped_extents == 0) return true;
    for (unsigned i = 0; i < map->fm_mapped_extents; i++) {
      const struct fiemap_extent& e = map->fm_extents[i];
      uint64_t begin = e.fe_logical;
      uint64_t end = e.fe_logical + e.fe_length;
      if (e.fe_flags & FIEMAP_EXTENT_UNWRITTEN) {
        preallocate(out, begin, end, name);
      } else {
        copy_range(in, out, begin, std::min(end, size), name);
        preallocate(out, std::max(begin, size), end, name);  // allocated beyond the end of file
      }
      next = end;
      if (e.fe_flags & FIEMAP_EXTENT_LAST) return true;
    }
  }
}

bool copy_by_seek(int in, int out, uint64_t size, const std::string& name) {
  uint64_t pos = 0;
  while (pos < size) {
    off_t data = lseek(in, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) return true;
      if (pos == 0 && (errno == EINVAL || errno == EOPNOTSUPP)) return false;
      throw_errno("seeking data in " + name);
    }
    off_t hole = lseek(in, data, SEEK_HOLE);
    if (hole < 0) throw_errno("seeking a hole in " + name);
    copy_range(in, out, static_cast<uint64_t>(data), static_cast<uint64_t>(hole), name);
    pos = static_cast<uint64_t>(hole);
  }
  return true;
}

void copy_open_file(int in, const struct stat& st, const std::filesystem::path& to, const std::string& name) {
  std::error_code ignored;
  std::filesystem::remove(to, ignored);
  Descriptor out(open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (out.get() < 0) throw_errno("creating " + to.string());
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (ftruncate(out.get(), st.st_size) != 0) throw_errno("sizing a copy of " + name);
  if (!copy_by_fiemap(in, out.get(), size, name) && !copy_by_seek(in, out.get(), size, name)) {
    copy_range(in, out.get(), 0, size, name);
  }
  if (fchmod(out.get(), st.st_mode & 07777) != 0) throw_errno("setting the mode of a copy of " + name);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  futimens(out.get(), times);
  if (fsync(out.get()) != 0) throw_errno("syncing a copy of " + name);
}

void copy_entry(const std::filesystem::path& from, const std::filesystem::path& to) {
  struct stat st;
  if (lstat(from.c_str(), &st) != 0) throw_errno("examining " + from.string());
  if (S_ISDIR(st.st_mode)) {
    if (mkdir(to.c_str(), 0700) != 0) throw_errno("creating " + to.string());
    for (const auto& entry : std::filesystem::directory_iterator(from)) {
      copy_entry(entry.path(), to / entry.path().filename());
    }
    if (chmod(to.c_str(), st.st_mode & 07777) != 0) throw_errno("setting the mode of " + to.string());
  } else if (S_ISLNK(st.st_mode)) {
    std::filesystem::create_symlink(std::filesystem::read_symlink(from), to);
  } else if (S_ISREG(st.st_mode)) {
    Descriptor in(open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (in.get() < 0) throw_errno("opening " + from.string());
    copy_open_file(in.get(), st, to, from.string());
  } else {
    throw std::system_error(std::make_error_code(std::errc::not_supported),
                            from.string() + " is neither a file, a directory nor a symlink");
  }
}

}  // namespace

void copy_tree(const std::filesystem::path& from, const std::filesystem::path& to) { copy_entry(from, to); }

void copy_file_keeping_allocation(const std::filesystem::path& from, const std::filesystem::path& to) {
  Descriptor in(open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (in.get() < 0) throw_errno("opening " + from.string());
  struct stat st;
  if (fstat(in.get(), &st) != 0) throw_errno("examining " + from.string());
  if (!S_ISREG(st.st_mode)) {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            from.string() + " is not a file");
  }
  copy_open_file(in.get(), st, to, from.string());
}

}  // namespace instar::diff
