// case.h: the case model — one small JSON program (setup, operations, what to compare) per end-to-end check.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace instar::diff {

// The qemu-img versions instar renders; a case may restrict itself to some of them.
const std::vector<std::string>& known_profiles();
bool is_known_profile(std::string_view profile);

// Setup steps. Every file name is relative to the case's private directory.
struct RunStep {
  std::vector<std::string> argv;  // argv[0] is "qemu-img" or "qemu-io" of the profile replayed
};
struct PatchStep {
  std::string file;
  uint64_t offset = 0;
  std::string bytes;  // written over the file at offset
};
struct TruncateStep {
  std::string file;  // created if missing
  uint64_t size = 0;
};
struct CopyStep {
  std::string from;
  std::string to;
};
struct WriteFileStep {
  std::string file;  // created or replaced
  std::string bytes;
};
struct MkdirStep {
  std::string dir;
};
// [offset, offset + length) allocated on disk: zeros written over it, so that it is data to SEEK_DATA, or
// with `unwritten`, fallocated (allocated, counted in st_blocks, a hole to SEEK_DATA on ext4). Fixtures
// use it to keep a file's allocation, which map, measure, convert and qemu's metadata-preallocation
// heuristic see (a hole and an allocated zero range read alike).
struct AllocateStep {
  std::string file;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool unwritten = false;
};

struct SetupStep {
  std::variant<RunStep, PatchStep, TruncateStep, CopyStep, WriteFileStep, MkdirStep, AllocateStep> action;
  bool may_fail = false;  // a failure is ignored
  unsigned attempts = 1;  // run steps only: tries before the step counts as failed (for flaky tools)
};

// What the reference did for one operation, recorded for one profile so that the
// case replays where no qemu-img is installed (compared after normalisation).
struct Expectation {
  std::string profile;
  int exit_code = 0;
  std::string out;
  std::string err;
};

struct Operation {
  std::vector<std::string> args;    // qemu-img's arguments, without argv[0]
  bool writes = false;              // false: the subject must leave every file untouched
  std::vector<Expectation> expect;  // recorded reference behaviour, one per profile
  // Read-only qemu-img commands (arguments without argv[0]) run with the profile's reference
  // qemu-img after each side's run, on the files that side left; their exit status, stdout and
  // stderr are compared between the two sides (e.g. `map -f raw out.raw` after a convert).
  std::vector<std::vector<std::string>> inspect;
  const Expectation* expectation_for(std::string_view profile) const;
};

// What a replay compares between the reference and the subject.
enum class Field {
  exit_status,  // "exit": exit code, signal or timeout
  stdout_text,  // "stdout": bytes on standard output
  stderr_text,  // "stderr": bytes on standard error
  files,        // "files": size and content of every file in the directory afterwards
};
std::string_view field_name(Field field);

struct Case {
  std::string name;
  std::string description;
  std::vector<std::string> profiles;                     // empty: every known profile
  std::vector<std::pair<std::string, std::string>> env;  // extra environment, in file order
  std::vector<SetupStep> setup;
  // The directory as setup left it, as file steps only (truncate, patch, write_file,
  // mkdir): a recorded replay builds it without qemu-img.
  std::vector<SetupStep> fixture;
  std::vector<Operation> operations;
  std::vector<Field> compare;
  // A known divergence (an id in docs/divergences.md): every operation must still
  // differ from the reference in a compared field; matching becomes a failure.
  std::string divergence;

  bool applies_to(std::string_view profile) const;
};

// A case file that does not follow the format; the message names the offending key.
class CaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parse and validate; throws CaseError.
Case parse_case(std::string_view json_text);
Case load_case(const std::filesystem::path& file);

// Canonical JSON for a case (fixed key order, defaults omitted); parse_case reads it back unchanged.
std::string serialise_case(const Case& c);

}  // namespace instar::diff
