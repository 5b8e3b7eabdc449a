// probe_flags.cc: --reference, --subject, --profile and --timeout, shared by run, minimise and promote.
#include "differential/commands/probe_flags.h"

#include <unistd.h>

namespace instar::diff {
namespace {

std::filesystem::path beside_self(const std::string& name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return name;
  auto sibling = self.parent_path() / name;
  if (std::filesystem::exists(sibling)) return sibling;
  auto in_build = self.parent_path().parent_path() / "cli" / name;  // the build tree's layout
  return std::filesystem::exists(in_build) ? in_build : std::filesystem::path(name);
}

}  // namespace

std::string probe_config_from(const Flags& f, ProbeConfig& config, const std::string& default_reference,
                              const std::string& default_subject) {
  std::string error;
  std::filesystem::path reference =
      f.get("--reference", default_reference.empty() ? "/usr/bin/qemu-img" : default_reference);
  config.subject =
      f.get("--subject", default_subject.empty() ? beside_self("instar").string() : default_subject);
  config.timeout = std::chrono::seconds(flag_number(f, "--timeout", 30, error));
  if (!error.empty()) return error;
  if (access(reference.c_str(), X_OK) != 0) return "reference " + reference.string() + " is not executable";
  if (access(config.subject.c_str(), X_OK) != 0)
    return "subject " + config.subject.string() + " is not executable";
  std::string profile = f.get("--profile", "");
  if (profile.empty()) profile = detect_profile(reference, config.timeout);
  if (profile.empty()) return "cannot tell the profile of " + reference.string() + "; give --profile";
  if (!is_known_profile(profile)) return "unknown profile " + profile;
  config.tools = reference_tools(std::filesystem::absolute(reference), profile);
  config.subject = std::filesystem::absolute(config.subject);
  return "";
}

}  // namespace instar::diff
