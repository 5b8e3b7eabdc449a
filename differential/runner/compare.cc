// compare.cc: compare what the reference and the subject did, field by field, byte for byte.
#include "differential/runner/compare.h"

#include <algorithm>

#include "differential/runner/line_diff.h"

namespace instar::diff {
namespace {

std::string truncation_note(const ProcessResult& r, const char* who) {
  return r.output_truncated ? std::string(" (") + who + " output was cut at the capture limit)" : "";
}

void compare_stream(Field field, const std::string& reference, const std::string& subject,
                    const RunCapture& ref, const RunCapture& sub, std::vector<Mismatch>& out) {
  if (reference == subject) return;
  std::string name(field_name(field));
  out.push_back(Mismatch{
      field,
      name + " differs" + truncation_note(ref.process, "reference") + truncation_note(sub.process, "subject"),
      unified_line_diff(reference, subject, "reference " + name, "subject " + name)});
}

void compare_inspections(const RunCapture& reference, const RunCapture& subject, std::vector<Mismatch>& out) {
  size_t count = std::min(reference.inspections.size(), subject.inspections.size());
  for (size_t i = 0; i < count; i++) {
    const ProcessResult& a = reference.inspections[i].process;
    const ProcessResult& b = subject.inspections[i].process;
    std::string what = "inspection #" + std::to_string(i + 1) + " (qemu-img";
    for (const std::string& arg : reference.inspections[i].args) what += " " + arg;
    what += ") of the files left";
    if (a.ending != b.ending || a.code != b.code) {
      out.push_back(Mismatch{
          Field::files,
          what + ": exit status differs: reference " + describe_ending(a) + ", subject " + describe_ending(b),
          ""});
    }
    if (a.out != b.out) {
      out.push_back(Mismatch{Field::files, what + ": stdout differs",
                             unified_line_diff(a.out, b.out, "reference inspection", "subject inspection")});
    }
    if (a.err != b.err) {
      out.push_back(Mismatch{Field::files, what + ": stderr differs",
                             unified_line_diff(a.err, b.err, "reference inspection", "subject inspection")});
    }
  }
}

}  // namespace

std::vector<Mismatch> compare_runs(const std::vector<Field>& fields, const RunCapture& reference,
                                   const RunCapture& subject) {
  std::vector<Mismatch> out;
  for (Field field : fields) {
    switch (field) {
      case Field::exit_status: {
        const ProcessResult& a = reference.process;
        const ProcessResult& b = subject.process;
        if (a.ending != b.ending || a.code != b.code) {
          out.push_back(Mismatch{
              field,
              "exit status differs: reference " + describe_ending(a) + ", subject " + describe_ending(b),
              ""});
        }
        break;
      }
      case Field::stdout_text:
        compare_stream(field, reference.process.out, subject.process.out, reference, subject, out);
        break;
      case Field::stderr_text:
        compare_stream(field, reference.process.err, subject.process.err, reference, subject, out);
        break;
      case Field::files: {
        auto changes = diff_trees(reference.files_after, subject.files_after, TreeDiffScope::content);
        if (changes.empty()) break;
        std::string detail;
        for (const auto& c : changes) {
          std::string what = c.what;
          if (what == "created") what = "only the subject left it";
          if (what == "removed") what = "only the reference left it";
          detail += c.path + ": " + what + " (reference -> subject)\n";
        }
        out.push_back(Mismatch{field, "files differ afterwards", detail});
        break;
      }
    }
  }
  compare_inspections(reference, subject, out);
  return out;
}

std::vector<std::string> read_only_violations(const TreeDigest& before, const TreeDigest& after) {
  std::vector<std::string> out;
  for (const auto& c : diff_trees(before, after, TreeDiffScope::everything)) {
    if (c.what == "created" || c.what == "removed") {
      out.push_back("subject " + c.what + " " + c.path + " during a read-only operation");
    } else {
      out.push_back("subject modified " + c.path + " during a read-only operation (" + c.what + ")");
    }
  }
  return out;
}

}  // namespace instar::diff
