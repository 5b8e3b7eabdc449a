// cli_options_fuzzer.cc: the CLI's parsers of user-supplied text: --object
// definitions, profile versions, sandbox names, and backing path combination.
#include <string>

#include "cli/info/backing_path.h"
#include "cli/object_option.h"
#include "cli/profile.h"
#include "cli/sandbox/sandbox.h"
#include "fuzz-targets/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t split = text.find('\n');
  std::string first = text.substr(0, split),
              second = split == std::string::npos ? "" : text.substr(split + 1);

  auto object = instar::cli::check_object_option(first);
  if (object) INSTAR_FUZZ_CHECK(!object->empty());

  if (auto profile = instar::cli::parse_profile(first)) {
    // A parsed version prints back as MAJOR.MINOR and parses to itself.
    auto again = instar::cli::parse_profile(profile->name());
    INSTAR_FUZZ_CHECK(again && again->major == profile->major && again->minor == profile->minor);
  }
  if (auto kind = instar::cli::parse_sandbox_kind(first))
    INSTAR_FUZZ_CHECK(instar::cli::parse_sandbox_kind(instar::cli::sandbox_kind_name(*kind)) == kind);

  std::string combined = instar::cli::combine_backing_path(first, second);
  // The backing name always survives whole at the end.
  INSTAR_FUZZ_CHECK(combined.size() >= second.size() &&
                    combined.compare(combined.size() - second.size(), second.size(), second) == 0);
  return 0;
}
