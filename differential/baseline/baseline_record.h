// baseline_record.h: one case's recorded reference behaviour for one qemu-img version, and its files on disk.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "differential/baseline/written_files.h"
#include "differential/case/case.h"

namespace instar::diff {

// One of the operation's `inspect` commands as the reference qemu-img answered it on the files it left.
struct RecordedInspection {
  std::vector<std::string> args;  // without argv[0]
  int exit_code = 0;
  std::string out;  // with the private directory as the placeholder
  std::string err;
};

struct RecordedOperation {
  std::vector<std::string> argv;  // exactly as run, argv[0] "qemu-img"
  int exit_code = 0;
  std::string out;  // with the private directory as the placeholder
  std::string err;
  std::vector<RecordedInspection> inspections;  // one per `inspect` command of the case's operation
  // False in records made before inspections were recorded: their inspections are unknown, not absent.
  bool inspections_recorded = false;
  // What the reference left in the files it created, changed or removed; recorded when the case compares
  // `files` (nullopt in records made before files were recorded).
  std::optional<std::vector<WrittenFile>> files;
};

struct BaselineRecord {
  std::string case_name;
  std::string version;             // "7.2": the qemu-img version recorded
  std::string tool_version;        // first line of `qemu-img --version`
  std::vector<SetupStep> setup;    // the case's setup commands as recorded
  std::vector<SetupStep> fixture;  // the directory those commands left, as file steps
  std::vector<RecordedOperation> operations;
};

// Outputs larger than this are stored zstd-compressed (<name>.zst).
inline constexpr size_t kCompressAbove = 8192;

// Writes DIR/<case>.meta.json (with the fixture, or naming <case>.fixture.json.zst when large) and
// DIR/<case>.{stdout,stderr}[.N][.zst] (.N when the case has
// several operations); removes stale output files of that case first. Throws std::runtime_error.
void save_record(const BaselineRecord& record, const std::filesystem::path& dir);
// Reads them back; throws std::runtime_error naming the file that is missing or malformed.
BaselineRecord load_record(const std::filesystem::path& meta_file);

// The files of DIR that belong to <case> (meta and outputs).
std::vector<std::filesystem::path> record_files(const std::filesystem::path& dir,
                                                const std::string& case_name);

// The case name a baseline file belongs to ("x.stdout.2.zst" -> "x"), "" when it is not one.
std::string record_case_of(const std::filesystem::path& file);

// The setup steps as canonical case JSON text (to compare a record with its case).
std::string steps_json(const std::vector<SetupStep>& steps);

}  // namespace instar::diff
