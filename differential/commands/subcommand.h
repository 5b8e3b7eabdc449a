// subcommand.h: the table of instar-diff subcommands and the exit codes they share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace instar::diff {

inline constexpr int kExitPass = 0;      // everything compared passed (skips allowed)
inline constexpr int kExitFail = 1;      // at least one failure
inline constexpr int kExitUsage = 2;     // bad command line
inline constexpr int kExitSkipped = 77;  // nothing ran: everything skipped (ctest SKIP_RETURN_CODE)

struct Subcommand {
  std::string_view name;
  std::string_view summary;                          // one line for the top-level help
  std::string_view help;                             // the full text of `instar-diff <name> --help`
  int (*run)(const std::vector<std::string>& args);  // args after the subcommand name
};

const std::vector<Subcommand>& subcommands();

}  // namespace instar::diff
