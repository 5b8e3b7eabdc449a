// getopt_args.cc: argv storage and qemu-img's option error styles.
#include "cli/getopt_args.h"

#include <getopt.h>

namespace instar::cli {

GetoptArgs::GetoptArgs(const Program& program, const std::string& subcommand, const std::vector<std::string>& args)
    : program_(program), subcommand_(subcommand), modern_(program.profile.getopt_messages()) {
  storage_.push_back(modern_ ? program.argv0 + " " + subcommand : program.argv0);
  storage_.insert(storage_.end(), args.begin(), args.end());
  for (auto& s : storage_) pointers_.push_back(s.data());
  pointers_.push_back(nullptr);
  optind = 0;
  opterr = modern_ ? 1 : 0;
}

bool GetoptArgs::report_failure(int c) {
  if (c == '?') {
    if (modern_) {
      usage_error(program_, subcommand_, "");  // getopt printed the message itself
    } else {
      usage_error(program_, subcommand_, "unrecognized option '" + std::string(pointers_[optind - 1]) + "'");
    }
    return true;
  }
  if (c == ':') {
    usage_error(program_, subcommand_, "missing argument for option '" + std::string(pointers_[optind - 1]) + "'");
    return true;
  }
  return false;
}

}  // namespace instar::cli
