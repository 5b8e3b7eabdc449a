// probe.cc: run one case against a reference and a subject and judge it.
#include "differential/campaign/probe.h"

#include "differential/runner/process.h"

namespace instar::diff {

Probe probe_case(const Case& c, const ProbeConfig& config) {
  ReplayConfig replay;
  replay.tools = config.tools;
  replay.subject = config.subject;
  replay.timeout = config.timeout;
  Probe p;
  p.run = execute_case(c, replay);
  p.judgement = judge_case(c, p.run, Normaliser::standard(), &p.operation);
  return p;
}

std::string detect_profile(const std::filesystem::path& qemu_img, std::chrono::milliseconds timeout) {
  ProcessSpec spec;
  spec.executable = qemu_img;
  spec.argv = {"qemu-img", "--version"};
  spec.cwd = "/";
  spec.timeout = timeout;
  ProcessResult r = run_process(spec);
  const std::string prefix = "qemu-img version ";
  if (r.out.compare(0, prefix.size(), prefix) != 0) return "";
  std::string version = r.out.substr(prefix.size());
  size_t dot = version.find('.');
  if (dot == std::string::npos) return "";
  size_t end = version.find_first_not_of("0123456789", dot + 1);
  std::string profile = version.substr(0, end);
  return is_known_profile(profile) ? profile : "";
}

ProfileTools reference_tools(const std::filesystem::path& qemu_img, const std::string& profile) {
  return ProfileTools{profile, qemu_img, qemu_img.parent_path() / "qemu-io"};
}

}  // namespace instar::diff
