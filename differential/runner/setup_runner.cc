// setup_runner.cc: carry out a case's setup steps in its private directory with a profile's tools.
#include "differential/runner/setup_runner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "differential/case/hex.h"
#include "differential/runner/command_line.h"
#include "differential/runner/process.h"
#include "differential/runner/tree_copy.h"

namespace instar::diff {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void write_all(int fd, std::string_view bytes, uint64_t offset, const std::string& name) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t put = pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) throw_errno("writing " + name);
    done += static_cast<size_t>(put);
  }
}

// Written, not fallocated: ext4 reports an unwritten (fallocated) extent as a hole to SEEK_DATA.
void write_zeros(int fd, uint64_t offset, uint64_t length, const std::string& name) {
  static const std::string zeros(1 << 20, '\0');
  while (length > 0) {
    size_t n = length < zeros.size() ? static_cast<size_t>(length) : zeros.size();
    write_all(fd, std::string_view(zeros.data(), n), offset, name);
    offset += n;
    length -= n;
  }
}

class File {
 public:
  File(const std::filesystem::path& path, int flags, const std::string& name)
      : fd_(open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, 0644)) {
    if (fd_ < 0) throw_errno("opening " + name);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { close(fd_); }
  int fd() const { return fd_; }

 private:
  int fd_;
};

// What a step does, for messages: "qemu-img create ...", "patch img.qcow2 at 4 (4 bytes)".
std::string describe(const SetupStep& step) {
  return std::visit(
      [](const auto& a) -> std::string {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, RunStep>) {
          return shell_join(a.argv);
        } else if constexpr (std::is_same_v<T, PatchStep>) {
          return "patch " + a.file + " at " + std::to_string(a.offset) + " (" +
                 std::to_string(a.bytes.size()) + " bytes: " + encode_hex(a.bytes) + ")";
        } else if constexpr (std::is_same_v<T, TruncateStep>) {
          return "truncate " + a.file + " to " + std::to_string(a.size) + " bytes";
        } else if constexpr (std::is_same_v<T, CopyStep>) {
          return "copy " + a.from + " to " + a.to;
        } else if constexpr (std::is_same_v<T, WriteFileStep>) {
          return "write " + std::to_string(a.bytes.size()) + " bytes to " + a.file;
        } else if constexpr (std::is_same_v<T, MkdirStep>) {
          return "mkdir " + a.dir;
        } else {
          return std::string(a.unwritten ? "fallocate " : "allocate ") + a.file + " at " + std::to_string(a.offset) +
                 " (" + std::to_string(a.length) + " bytes)";
        }
      },
      step.action);
}

// "" or why the program failed.
std::string run_program(const RunStep& step, const SetupContext& context) {
  const std::filesystem::path& tool =
      step.argv[0] == "qemu-img" ? context.tools.qemu_img : context.tools.qemu_io;
  ProcessSpec spec;
  spec.executable = tool;
  spec.argv = step.argv;  // argv[0] stays the bare name, as for the operations
  spec.env = context.env;
  spec.env.emplace_back("PATH", path_with_first(tool.parent_path()));
  spec.cwd = context.directory;
  spec.timeout = context.timeout;
  ProcessResult r = run_process(spec);
  if (r.ending == ProcessResult::Ending::exited && r.code == 0) {
    // qemu-io reports a failed command on stdout and still exits 0.
    if (step.argv[0] == "qemu-io" && r.out.find("failed: ") != std::string::npos)
      return "qemu-io said: " + r.out;
    return "";
  }
  std::string why = describe_ending(r);
  if (!r.err.empty()) why += "; stderr: " + r.err;
  if (!r.out.empty()) why += "; stdout: " + r.out;
  while (!why.empty() && why.back() == '\n') why.pop_back();
  return why;
}

void run_file_step(const SetupStep& step, const std::filesystem::path& dir) {
  std::visit(
      [&dir](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, PatchStep>) {
          File f(dir / a.file, O_WRONLY, a.file);
          write_all(f.fd(), a.bytes, a.offset, a.file);
        } else if constexpr (std::is_same_v<T, TruncateStep>) {
          File f(dir / a.file, O_WRONLY | O_CREAT, a.file);
          if (ftruncate(f.fd(), static_cast<off_t>(a.size)) != 0) throw_errno("truncating " + a.file);
        } else if constexpr (std::is_same_v<T, CopyStep>) {
          copy_file_keeping_allocation(dir / a.from, dir / a.to);
        } else if constexpr (std::is_same_v<T, WriteFileStep>) {
          File f(dir / a.file, O_WRONLY | O_CREAT | O_TRUNC, a.file);
          write_all(f.fd(), a.bytes, 0, a.file);
        } else if constexpr (std::is_same_v<T, MkdirStep>) {
          if (mkdir((dir / a.dir).c_str(), 0755) != 0) throw_errno("creating directory " + a.dir);
        } else if constexpr (std::is_same_v<T, AllocateStep>) {
          File f(dir / a.file, O_WRONLY | O_CREAT, a.file);
          if (!a.unwritten) {
            write_zeros(f.fd(), a.offset, a.length, a.file);
          } else if (fallocate(f.fd(), FALLOC_FL_KEEP_SIZE, static_cast<off_t>(a.offset), static_cast<off_t>(a.length)) != 0) {
            throw_errno("allocating " + a.file);
          }
        }
      },
      step.action);
}

}  // namespace

std::string run_setup(const std::vector<SetupStep>& steps, const SetupContext& context) {
  for (size_t i = 0; i < steps.size(); i++) {
    const SetupStep& step = steps[i];
    std::string why;
    if (const auto* run = std::get_if<RunStep>(&step.action)) {
      for (unsigned attempt = 0; attempt < step.attempts; attempt++) {
        why = run_program(*run, context);
        if (why.empty()) break;
      }
      if (!why.empty() && step.attempts > 1) why += " (" + std::to_string(step.attempts) + " attempts)";
    } else {
      try {
        run_file_step(step, context.directory);
      } catch (const std::system_error& e) {
        why = e.what();
      }
    }
    if (!why.empty() && !step.may_fail) {
      return "setup step " + std::to_string(i + 1) + " failed: " + describe(step) + ": " + why;
    }
  }
  return "";
}

}  // namespace instar::diff
