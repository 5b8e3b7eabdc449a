// compare.h: compare what the reference and the subject did, field by field, byte for byte.
#pragma once

#include <string>
#include <vector>

#include "differential/case/case.h"
#include "differential/runner/process.h"
#include "differential/runner/tree_digest.h"

namespace instar::diff {

// One of an operation's `inspect` commands, run with the reference qemu-img after one side's run.
struct Inspection {
  std::vector<std::string> args;  // without argv[0]
  ProcessResult process;
};

// One side's run of an operation: how it ended, what it printed, what it left on disk.
struct RunCapture {
  ProcessResult process;
  TreeDigest files_after;
  std::vector<Inspection> inspections;  // empty when the operation has none or no qemu-img ran them
};

struct Mismatch {
  Field field;
  std::string summary;  // one line: "stdout differs", "exit status differs: reference exit 0, subject exit 1"
  std::string detail;   // a unified line diff or a list of files; may be empty
};

// Inspections are compared (exit status, stdout, stderr) whenever both sides have them, whatever
// `fields` says; their mismatches are reported as Field::files.
std::vector<Mismatch> compare_runs(const std::vector<Field>& fields, const RunCapture& reference,
                                   const RunCapture& subject);

// The read-only rule: one message per file the subject created, removed or changed.
std::vector<std::string> read_only_violations(const TreeDigest& before, const TreeDigest& after);

}  // namespace instar::diff
