// report.cc: the text form of replay reports.
#include "differential/runner/report.h"

#include "differential/runner/command_line.h"

namespace instar::diff {
namespace {

// Every line of text, indented; a missing final newline is supplied.
std::string indent(std::string_view text, std::string_view prefix) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out += prefix;
    out += text.substr(start, end - start);
    out += '\n';
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::pass:
      return "PASS";
    case Verdict::fail:
      return "FAIL";
    case Verdict::skip:
      return "SKIP";
  }
  return "?";
}

std::string format_report(const CaseReport& report) {
  std::string head = report.case_name + " [" + report.profile + "]";
  std::string out;
  if (!report.message.empty() || report.operations.empty()) {
    std::string first_line = report.message.substr(0, report.message.find('\n'));
    out += std::string(verdict_name(report.verdict)) + " " + head + ": " + first_line + "\n";
    if (first_line.size() < report.message.size())
      out += indent(report.message.substr(first_line.size() + 1), "    ");
  }
  for (const OperationReport& op : report.operations) {
    out += std::string(verdict_name(op.verdict)) + " " + head + " #" + std::to_string(op.number) +
           ": qemu-img " + shell_join(op.args) + "\n";
    for (const std::string& problem : op.problems) out += indent(problem, "    ");
  }
  if (!report.kept_directory.empty()) out += "    kept " + report.kept_directory.string() + "\n";
  return out;
}

}  // namespace instar::diff
