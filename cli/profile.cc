// profile.cc: profile selection and cheap detection of the installed qemu-img.
#include "cli/profile.h"

#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace instar::cli {

std::optional<Profile> parse_profile(const std::string& text) {
  int major = 0, minor = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%d.%d%n", &major, &minor, &consumed) != 2) return std::nullopt;
  std::string rest = text.substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest[0] != '.') return std::nullopt;
  if (major < 1 || minor < 0) return std::nullopt;
  return Profile{major, minor};
}

namespace {

std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  return buf;
}

// The first qemu-img on PATH that is not instar itself (a drop-in symlink).
std::optional<std::string> find_reference_qemu_img() {
  const char* path = getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string self = self_path();
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/qemu-img";
    if (access(candidate.c_str(), X_OK) != 0) continue;
    char real[PATH_MAX];
    if (realpath(candidate.c_str(), real) == nullptr) continue;
    if (self == real) continue;
    return std::string(real);
  }
  return std::nullopt;
}

std::string cache_file() {
  const char* xdg = getenv("XDG_CACHE_HOME");
  const char* home = getenv("HOME");
  std::string base = xdg && *xdg ? xdg : home && *home ? std::string(home) + "/.cache" : "";
  return base.empty() ? "" : base + "/instar/qemu-img-version";
}

std::optional<std::string> run_version(const std::string& binary) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", 1 /* O_WRONLY */, 0);
  std::vector<char*> argv{const_cast<char*>(binary.c_str()), const_cast<char*>("--version"), nullptr};
  pid_t pid;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    return std::nullopt;
  }
  std::string text;
  char buf[512];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0 && text.size() < 4096)
    text.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status;
  waitpid(pid, &status, 0);
  const std::string prefix = "qemu-img version ";
  if (text.rfind(prefix, 0) != 0) return std::nullopt;
  size_t end = text.find_first_of(" \n", prefix.size());
  return text.substr(prefix.size(), end - prefix.size());
}

// The installed version, from the cache when the binary is unchanged.
std::optional<std::string> installed_version() {
  auto binary = find_reference_qemu_img();
  if (!binary) return std::nullopt;
  struct stat st;
  if (stat(binary->c_str(), &st) != 0) return std::nullopt;
  std::ostringstream key;
  key << *binary << ' ' << st.st_dev << ' ' << st.st_ino << ' ' << st.st_size << ' ' << st.st_mtim.tv_sec
      << '.' << st.st_mtim.tv_nsec;
  std::string cache = cache_file();
  if (!cache.empty()) {
    std::ifstream in(cache);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key.str() + " ", 0) == 0) return line.substr(key.str().size() + 1);
    }
  }
  auto version = run_version(*binary);
  if (version && !cache.empty()) {
    std::string dir = cache.substr(0, cache.rfind('/'));
    mkdir(dir.substr(0, dir.rfind('/')).c_str(), 0700);
    mkdir(dir.c_str(), 0700);
    std::ofstream out(cache, std::ios::app);
    out << key.str() << ' ' << *version << '\n';
  }
  return version;
}

// Maps any version onto a known profile: the newest known one not newer than it.
Profile nearest_known(const Profile& p, std::string& warning) {
  Profile best{7, 2};
  for (const char* known : kKnownProfiles) {
    Profile k = *parse_profile(known);
    if (k.major == p.major && k.minor == p.minor) return k;
    if (std::make_pair(k.major, k.minor) <= std::make_pair(p.major, p.minor)) best = k;
  }
  warning = "qemu-img " + p.name() + " has no recorded profile; using " + best.name();
  return best;
}

}  // namespace

Profile select_profile(const std::optional<std::string>& flag, std::string& warning) {
  std::optional<std::string> chosen = flag;
  if (!chosen) {
    const char* env = getenv("INSTAR_QEMU_VERSION");
    if (env != nullptr && *env != '\0') chosen = env;
  }
  if (!chosen) chosen = installed_version();
  if (!chosen) return Profile{10, 0};
  auto parsed = parse_profile(*chosen);
  if (!parsed) {
    warning = "cannot parse qemu version '" + *chosen + "'; using 10.0";
    return Profile{10, 0};
  }
  return nearest_known(*parsed, warning);
}

}  // namespace instar::cli
