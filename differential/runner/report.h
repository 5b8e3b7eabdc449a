// report.h: what a replay found, per case and profile and per operation, and its text form.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace instar::diff {

enum class Verdict { pass, fail, skip };
std::string_view verdict_name(Verdict verdict);  // "PASS", "FAIL", "SKIP"

struct OperationReport {
  size_t number = 0;  // 1-based, as a person counts the operations of a case
  std::vector<std::string> args;
  Verdict verdict = Verdict::pass;
  std::vector<std::string> problems;  // each a line, or a line followed by a diff
};

struct CaseReport {
  std::string case_name;
  std::string profile;
  Verdict verdict = Verdict::pass;  // fail if any operation failed
  std::string message;              // why the whole case was skipped or failed before its operations
  std::vector<OperationReport> operations;
  std::filesystem::path kept_directory;  // set with --keep
};

// One line per operation ("PASS name [7.2] #1: qemu-img info img.qcow2"), problems indented
// under it; a case skipped or failed as a whole is one line with its message.
std::string format_report(const CaseReport& report);

}  // namespace instar::diff
