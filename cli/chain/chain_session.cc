// chain_session.cc: the attach-and-rerun loop and the path policy.
#include "cli/chain/chain_session.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <climits>
#include <cstring>
#include <cstdlib>
#include <set>
#include <utility>

#include "cli/chain/corruption_events.h"
#include "cli/info/backing_path.h"
#include "cli/sandbox/sandbox.h"
#include "core/ops/info_record.h"

namespace instar::cli {

namespace {

constexpr size_t kMaxBackingDepth = 16;

std::string real_directory_of(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return "";
  std::string real = buf;
  size_t slash = real.rfind('/');
  return slash == 0 ? "/" : real.substr(0, slash);
}

bool inside(const std::string& path, const std::string& dir) {
  if (dir.empty()) return false;
  if (dir == "/") return true;
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// Whether the file `path` names (after resolving links) lies in an allowed directory.
bool allowed(const std::string& path, const std::vector<std::string>& dirs) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return true;  // missing: the open reports it as qemu does
  for (const std::string& d : dirs)
    if (inside(buf, d)) return true;
  return false;
}

}  // namespace

std::vector<std::string> extra_allowed_directories() {
  std::vector<std::string> dirs;
  const char* env = std::getenv("INSTAR_ALLOW_PATHS");
  if (env == nullptr) return dirs;
  std::string list = env;
  size_t from = 0;
  while (from <= list.size()) {
    size_t colon = list.find(':', from);
    std::string d = list.substr(from, colon == std::string::npos ? std::string::npos : colon - from);
    char buf[PATH_MAX];
    if (!d.empty() && realpath(d.c_str(), buf) != nullptr) dirs.push_back(buf);
    if (colon == std::string::npos) break;
    from = colon + 1;
  }
  return dirs;
}

void set_name_tail(Request& request, const std::string& path) {
  std::string base = path;
  if (base.size() >= sizeof request.name_tail) base = base.substr(base.size() - (sizeof request.name_tail - 1));
  for (size_t i = 0; i < base.size(); i++) request.name_tail[i] = base[i];
  request.name_tail[base.size()] = '\0';
}

std::string device_name(const ChainSession& session, uint64_t number) {
  return number < session.names.size() ? session.names[number] : "";
}

namespace {

// The created file opened afresh (as qemu-img does: it closes the file it created and opens the image),
// through /proc/self/fd so that no path is looked up again. It matters on ext4: truncating a file to
// nothing marks it for "allocate on close" (auto_da_alloc), and the close of the descriptor that was
// truncated then starts writeback of everything written through it (111 ms at the end of a 512 MiB
// convert, measured with strace -T). Closed here, with nothing but the first block written, that costs
// nothing. Where /proc is missing, or it is not the same file, the first descriptor is kept.
int reopen_after_create(int fd, const struct stat& created) {
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  int again = ::open(self.c_str(), O_RDWR | O_CLOEXEC);
  if (again < 0) return fd;
  struct stat st;
  if (fstat(again, &st) != 0 || st.st_dev != created.st_dev || st.st_ino != created.st_ino) {
    ::close(again);
    return fd;
  }
  ::close(fd);
  return again;
}

// qemu's file driver creating a raw image: the file truncated to nothing, then
// to `size`, and its first block written so that its alignment can be probed.
std::optional<OpenedImage> create_output(const OutputSpec& spec, uint64_t size, std::string& error) {
  int fd = ::open(spec.path.c_str(), spec.skip_create ? O_RDWR | O_CLOEXEC : O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = std::string(spec.skip_create ? "Could not open '" : "Could not create '") + spec.path +
            "': " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "'" + spec.path + "' is not a regular file";
    ::close(fd);
    return std::nullopt;
  }
  if (!spec.skip_create) {
    if (ftruncate(fd, 0) != 0 || ftruncate(fd, static_cast<off_t>(size)) != 0) {
      error = "Could not resize file: " + std::string(std::strerror(errno));
      ::close(fd);
      return std::nullopt;
    }
    if (size > 0) {
      static const uint8_t kZeroes[4096] = {};
      size_t first = size < sizeof kZeroes ? 512 : sizeof kZeroes;
      if (pwrite(fd, kZeroes, first, 0) < 0) {
        error = "Could not write to file: " + std::string(std::strerror(errno));
        ::close(fd);
        return std::nullopt;
      }
      if (size < first && ftruncate(fd, static_cast<off_t>(size)) != 0) {
        ::close(fd);
        return std::nullopt;
      }
    }
    if (fstat(fd, &st) != 0) {
      ::close(fd);
      return std::nullopt;
    }
    fd = reopen_after_create(fd, st);
  }
  OpenedImage image;
  image.length = static_cast<uint64_t>(st.st_size);
  image.allocated = static_cast<uint64_t>(st.st_blocks) * 512;
  image.dev = static_cast<uint64_t>(st.st_dev);
  image.ino = static_cast<uint64_t>(st.st_ino);
  image.device = std::make_unique<FileBlockDevice>(fd, image.length, *image.allocated, true);
  return image;
}

}  // namespace

std::optional<ChainSession> run_chain_session(const Program& program, Request request, const std::string& filename,
                                              const std::optional<OutputSpec>& output,
                                              const std::optional<SecondImage>& second, bool direct) {
  auto fail = [&](const std::string& why) -> std::optional<ChainSession> {
    report_error(program, "Could not open '" + filename + "': " + why);
    return std::nullopt;
  };
  // A device of the second image's chain fails in that image's name.
  ChainSession session;
  std::vector<size_t> top_of{0};  // the top-level device each device's chain starts at
  auto fail_in = [&](size_t top, const std::string& why) -> std::optional<ChainSession> {
    report_error(program, "Could not open '" + session.names[top] + "': " + why);
    return std::nullopt;
  };
  std::string error;
  auto image = open_image_readonly(filename, error, direct);
  if (!image) return fail(error);
  std::vector<std::string> dirs = extra_allowed_directories();
  dirs.push_back(real_directory_of(filename));
  std::set<std::pair<uint64_t, uint64_t>> seen{{image->dev, image->ino}};
  std::vector<std::set<std::pair<uint64_t, uint64_t>>> seen_in(1, seen);  // per top-level device
  session.files.push_back(std::move(*image));
  session.names.push_back(filename);
  std::vector<size_t> depth_of{0};  // backing depth of each device's layer

  for (;;) {
    HostDevices devices;
    devices.image = session.files[0].device.get();
    for (size_t i = 1; i < session.files.size(); i++) devices.attached.push_back(session.files[i].device.get());
    auto record = run_sandboxed(program.sandbox, request, devices);
    if (record.is_error()) return fail(record.error().message);
    const RecordField* need = record.value().root.find(kTagNeedDevice);
    if (need == nullptr) {
      // qemu's driver printed these as they happened, before the operation's output.
      auto events = corruption_events(record.value().root);
      if (!events) {
        report_error(program, "sandbox: malformed corruption event in the result record");
        return std::nullopt;
      }
      for (const std::string& line : *events) std::fprintf(stderr, "%s\n", line.c_str());
      session.record = std::move(record.value());
      return session;
    }
    auto role = need->u64_of(kTagNeedRole);
    auto parent = need->u64_of(kTagNeedParent);
    auto name = need->string_of(kTagNeedName);
    if (role && *role == static_cast<uint64_t>(DeviceRole::output)) {
      auto size = need->u64_of(kTagNeedSize);
      if (!output || !size || session.files.size() > kMaxAttached)
        return fail("sandbox: malformed output request in the result record");
      // Only after the source chain opened, as qemu-img creates its target.
      if (!output->skip_create) {
        struct stat st;
        if (stat(output->path.c_str(), &st) == 0 && seen.count({st.st_dev, st.st_ino})) {
          report_error(program, "the output '" + output->path + "' is one of the input files");
          return std::nullopt;
        }
      }
      auto file = create_output(*output, *size, error);
      if (!file) {
        if (output->skip_create) {
          report_error(program, "Could not open '" + output->path + "': " + error);  // qemu's -n open
        } else {
          report_error(program, output->path + ": " + output->create_context + ": " + error);
        }
        return std::nullopt;
      }
      if (seen.count({file->dev, file->ino})) {
        report_error(program, "the output '" + output->path + "' is one of the input files");
        return std::nullopt;
      }
      size_t slot = session.files.size() - 1;
      request.attached[slot].role = DeviceRole::output;
      request.attached[slot].parent = 0;
      session.files.push_back(std::move(*file));
      session.names.push_back(output->path);
      depth_of.push_back(0);
      top_of.push_back(0);
      continue;
    }
    if (role && *role == static_cast<uint64_t>(DeviceRole::second_image)) {
      if (!second || top_of.size() != session.files.size() || session.files.size() > kMaxAttached)
        return fail("sandbox: malformed second image request in the result record");
      if (!second->refusal.empty()) {
        report_error(program, "Could not open '" + second->path + "': " + second->refusal);
        return std::nullopt;
      }
      auto file = open_image_readonly(second->path, error, direct);
      if (!file) {
        report_error(program, "Could not open '" + second->path + "': " + error);
        return std::nullopt;
      }
      size_t number = session.files.size();
      request.attached[number - 1].role = DeviceRole::second_image;
      request.attached[number - 1].parent = 0;
      dirs.push_back(real_directory_of(second->path));
      seen.insert({file->dev, file->ino});
      seen_in.resize(number + 1);
      seen_in[number].insert({file->dev, file->ino});
      session.files.push_back(std::move(*file));
      session.names.push_back(second->path);
      depth_of.push_back(0);
      top_of.push_back(number);
      continue;
    }
    if (!role || !parent || !name || *parent >= session.files.size() ||
        (*role != static_cast<uint64_t>(DeviceRole::backing) && *role != static_cast<uint64_t>(DeviceRole::data_file)))
      return fail("sandbox: malformed device request in the result record");
    if (session.files.size() > kMaxAttached) return fail("instar: too many files in the chain");
    bool backing = *role == static_cast<uint64_t>(DeviceRole::backing);
    size_t depth = depth_of[*parent] + (backing ? 1 : 0);
    size_t top = *parent < top_of.size() ? top_of[*parent] : 0;
    if (depth > kMaxBackingDepth) return fail_in(top, "Backing chain is deeper than 16 files (instar's limit)");
    std::string path = combine_backing_path(session.names[*parent], *name);
    std::string prefix = backing ? "Could not open backing file: " : "";
    if (!allowed(path, dirs))
      return fail_in(top, prefix + "'" + path +
                  "' is outside the directories instar may open (the image's directory and "
                  "INSTAR_ALLOW_PATHS; docs/sandbox.md)");
    auto file = open_image_readonly(path, error, direct);
    if (!file) return fail_in(top, prefix + error);
    seen.insert({file->dev, file->ino});
    if (seen_in.size() <= top) seen_in.resize(top + 1);
    if (!seen_in[top].insert({file->dev, file->ino}).second)
      return fail_in(top, prefix + "Backing file '" + path + "' creates an infinite loop");
    size_t slot = session.files.size() - 1;  // request.attached index
    request.attached[slot].role = backing ? DeviceRole::backing : DeviceRole::data_file;
    request.attached[slot].parent = static_cast<uint8_t>(*parent);
    session.files.push_back(std::move(*file));
    session.names.push_back(path);
    depth_of.push_back(depth);
    top_of.push_back(top);
  }
}

}  // namespace instar::cli
