// profile_tools.cc: locate a profile's qemu-img and qemu-io and confirm their versions.
#include "differential/runner/profile_tools.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "differential/runner/process.h"

namespace instar::diff {
namespace {

std::string check_tool(const std::string& profile, const std::string& tool, const std::filesystem::path& path,
                       std::chrono::milliseconds timeout) {
  std::string who = tool + " for profile " + profile;
  if (access(path.c_str(), X_OK) != 0) {
    return who + " is missing: " + path.string() + " (" + strerror(errno) + ")";
  }
  ProcessSpec spec;
  spec.executable = path;
  spec.argv = {path.string(), "--version"};
  spec.cwd = "/";
  spec.timeout = timeout;
  ProcessResult r = run_process(spec);
  std::string first_line = r.out.substr(0, r.out.find('\n'));
  if (r.ending != ProcessResult::Ending::exited || r.code != 0) {
    return who + " does not work: " + path.string() + " --version: " + describe_ending(r);
  }
  std::string expected = tool + " version " + profile + ".";
  if (first_line.rfind(expected, 0) != 0) {
    return who + " is the wrong version: " + path.string() + " --version says \"" + first_line +
           "\", expected \"" + expected + "*\"";
  }
  return "";
}

}  // namespace

ProfileTools profile_tools_in(const std::string& profile, const std::filesystem::path& dir) {
  return ProfileTools{profile, dir / "qemu-img", dir / "qemu-io"};
}

std::string check_profile_tools(const ProfileTools& tools, std::chrono::milliseconds timeout) {
  std::string why = check_tool(tools.profile, "qemu-img", tools.qemu_img, timeout);
  if (why.empty()) why = check_tool(tools.profile, "qemu-io", tools.qemu_io, timeout);
  return why;
}

}  // namespace instar::diff
