// getopt_args.h: a subcommand's arguments as the argv glibc getopt_long reads,
// named and reported the way qemu-img does it for the profile.
#pragma once

#include <string>
#include <vector>

#include "cli/program.h"

namespace instar::cli {

class GetoptArgs {
 public:
  // argv[0] is "<argv0> <subcommand>" where the profile's getopt prints its own
  // messages (9.2+), else argv0. Resets getopt (optind 0) and sets opterr.
  GetoptArgs(const Program& program, const std::string& subcommand, const std::vector<std::string>& args);
  GetoptArgs(const GetoptArgs&) = delete;
  GetoptArgs& operator=(const GetoptArgs&) = delete;

  int argc() const { return static_cast<int>(storage_.size()); }
  char** argv() { return pointers_.data(); }
  // The short options for the profile: before 9.2 qemu-img parses with a leading ':' and
  // reports errors itself; `older` names the older option set where it differs.
  std::string shortopts(const std::string& options, const std::string& older = "") const {
    return modern_ ? options : ":" + (older.empty() ? options : older);
  }
  bool modern() const { return modern_; }

  // getopt_long's '?' and ':' as qemu-img reports them for the profile. Returns
  // true (after printing) for those two, false for any other option character.
  bool report_failure(int c);

 private:
  const Program& program_;
  std::string subcommand_;
  bool modern_;
  std::vector<std::string> storage_;
  std::vector<char*> pointers_;
};

}  // namespace instar::cli
