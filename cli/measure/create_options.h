// create_options.h: `-o` option strings as qemu's QemuOpts parse them against
// a format's creation options (the format's own plus the file protocol's),
// with qemu's messages; the last occurrence of an option wins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace instar::cli {

enum class OptionType { string, boolean, number, size };

struct OptionDesc {
  const char* name;
  OptionType type;
};

// The creation options qemu-img measure accepts for -O `format` (nullptr if
// instar does not know the format's option list).
const std::vector<OptionDesc>* creation_options(const std::string& format, bool qemu_10);

struct ParsedOption {
  std::string name;
  std::string text;
  OptionType type = OptionType::string;
  bool boolean = false;
  uint64_t number = 0;
};

struct ParsedOptions {
  std::vector<ParsedOption> options;
  // The last value of `name`, or nullptr.
  const ParsedOption* last(const std::string& name) const;
};

// qemu_opts_do_parse: returns the error lines (each without the "qemu-img: " prefix; a hint follows
// its error on lines of its own) or the options. `short_forms`, when given, receives each bare "foo" or
// "nofoo" item up to the one that failed, as written (qemu_opts_parse_noisily warns about them).
std::optional<ParsedOptions> parse_creation_options(const std::string& text, const std::vector<OptionDesc>& descs,
                                                    bool qemu_10, std::vector<std::string>& error_lines,
                                                    std::vector<std::string>* short_forms = nullptr);

// accumulate_options' check on one -o argument.
bool valid_option_list(const std::string& text);

}  // namespace instar::cli
