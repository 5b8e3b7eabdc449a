// instar_diff_main.cc: `instar-diff <subcommand> ...` — dispatch to the subcommand table.
#include <cstdio>
#include <string>
#include <vector>

#include "differential/commands/subcommand.h"

namespace {

void print_overview(FILE* to) {
  std::fputs("usage: instar-diff <command> [options] ...\n\ncommands:\n", to);
  for (const auto& s : instar::diff::subcommands()) {
    std::fprintf(to, "  %-10.*s %.*s\n", static_cast<int>(s.name.size()), s.name.data(),
                 static_cast<int>(s.summary.size()), s.summary.data());
  }
  std::fputs("\n'instar-diff <command> --help' describes one command.\n", to);
}

const instar::diff::Subcommand* find_subcommand(const std::string& name) {
  for (const auto& s : instar::diff::subcommands()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_overview(stderr);
    return instar::diff::kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    if (args[0] == "help" && args.size() > 1) {
      const auto* s = find_subcommand(args[1]);
      if (s == nullptr) {
        std::fprintf(stderr, "instar-diff: unknown command '%s'\n", args[1].c_str());
        return instar::diff::kExitUsage;
      }
      std::fwrite(s->help.data(), 1, s->help.size(), stdout);
      return instar::diff::kExitPass;
    }
    print_overview(stdout);
    return instar::diff::kExitPass;
  }
  const auto* s = find_subcommand(args[0]);
  if (s == nullptr) {
    std::fprintf(stderr, "instar-diff: unknown command '%s'\n", args[0].c_str());
    print_overview(stderr);
    return instar::diff::kExitUsage;
  }
  return s->run(std::vector<std::string>(args.begin() + 1, args.end()));
}
