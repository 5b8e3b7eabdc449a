// divergence.cc: judge one operation's two runs after normalisation, and name the difference by a signature.
#include "differential/compare/divergence.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "differential/compare/json_diff.h"
#include "differential/runner/compare.h"

namespace instar::diff {
namespace {

bool finished(const ProcessResult& r) {
  return r.ending == ProcessResult::Ending::exited || r.ending == ProcessResult::Ending::signalled;
}

std::string ending_token(const ProcessResult& r) {
  return r.ending == ProcessResult::Ending::signalled ? "signal " + std::to_string(r.code)
                                                      : std::to_string(r.code);
}

// The lines only one side printed, masked, each marked with the side ('-' reference, '+' subject).
void line_tokens(const std::string& name, const std::string& a, const std::string& b,
                 std::set<std::string>& out) {
  auto lines = [](const std::string& text) {
    std::multiset<std::string> s;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      s.insert(text.substr(start, end - start));
      start = end + 1;
    }
    return s;
  };
  auto la = lines(a), lb = lines(b);
  for (const auto& l : la)
    if (!lb.count(l)) out.insert(name + " -" + mask_line(l));
  for (const auto& l : lb)
    if (!la.count(l)) out.insert(name + " +" + mask_line(l));
  if (out.empty()) out.insert(name + " whitespace or order");
}

}  // namespace

std::string mask_line(const std::string& line) {
  std::string out;
  bool in_quote = false;
  for (size_t i = 0; i < line.size() && out.size() < 100; i++) {
    char c = line[i];
    if (c == '\'') {
      in_quote = !in_quote;
      out += in_quote ? "'…" : "'";
      continue;
    }
    if (in_quote) continue;
    if (c >= '0' && c <= '9') {
      while (i + 1 < line.size() && ((line[i + 1] >= '0' && line[i + 1] <= '9') || line[i + 1] == '.')) i++;
      out += 'N';
      continue;
    }
    out += c;
  }
  return out;
}

std::string signature_id(const std::string& signature) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : signature) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string operation_format(const Operation& op) {
  std::string format = "none";
  for (size_t i = 1; i < op.args.size(); i++) {
    const std::string& a = op.args[i];
    for (const char* ext : {".qcow2", ".raw", ".data"}) {
      std::string e(ext);
      if (a.size() > e.size() && a.compare(a.size() - e.size(), e.size(), e) == 0) format = e.substr(1);
    }
  }
  return op.args.empty() ? "?" : op.args[0] + " " + format;
}

Judgement judge(const Operation& op, const std::vector<Field>& compare, const OperationRun& run,
                const Normaliser& normaliser) {
  Judgement j;
  for (const auto* side : {&run.reference, &run.subject}) {
    if (!finished(side->process) ||
        (side == &run.reference && side->process.ending == ProcessResult::Ending::signalled)) {
      j.outcome = Outcome::inconclusive;
      j.why =
          std::string(side == &run.reference ? "reference " : "subject ") + describe_ending(side->process);
      return j;
    }
  }
  RunCapture a = run.reference, b = run.subject;
  a.process.out = normaliser.apply(a.process.out);
  a.process.err = normaliser.apply(a.process.err);
  b.process.out = normaliser.apply(b.process.out);
  b.process.err = normaliser.apply(b.process.err);
  std::set<std::string> tokens;
  std::set<std::string> kinds;
  for (const Mismatch& m : compare_runs(compare, a, b)) {
    std::string name(field_name(m.field));
    j.diff += m.summary + "\n" + m.detail;
    if (m.field == Field::exit_status) {
      bool crash = b.process.ending == ProcessResult::Ending::signalled;
      kinds.insert(crash ? "crash" : "exit");
      tokens.insert("exit " + ending_token(a.process) + " -> " + ending_token(b.process));
    } else if (m.field == Field::stdout_text || m.field == Field::stderr_text) {
      kinds.insert(name);
      const std::string& x = m.field == Field::stdout_text ? a.process.out : a.process.err;
      const std::string& y = m.field == Field::stdout_text ? b.process.out : b.process.err;
      std::vector<JsonFieldDifference> fields;
      if (!x.empty() && !y.empty() && (x[0] == '{' || x[0] == '[') && json_differences(x, y, fields)) {
        if (fields.empty()) tokens.insert(name + " JSON layout");
        for (const auto& f : fields) {
          std::string path = f.path;
          // Array positions are not part of the bug's identity.
          for (size_t p = 0; (p = path.find('/', p)) != std::string::npos; p++) {
            size_t q = p + 1;
            while (q < path.size() && path[q] >= '0' && path[q] <= '9') q++;
            if (q > p + 1 && (q == path.size() || path[q] == '/')) path.replace(p + 1, q - p - 1, "*");
          }
          j.diff += "  " + name + " " + f.path + ": " + f.what + "\n";
          tokens.insert(name + " " + path + " " + f.what.substr(0, f.what.find(':')));
        }
      } else {
        std::set<std::string> lines;
        line_tokens(name, x, y, lines);
        tokens.insert(lines.begin(), lines.end());
      }
    } else {
      kinds.insert(name);
      tokens.insert(name + " differ");
    }
  }
  if (!op.writes) {
    for (std::string& v : read_only_violations(run.before, run.subject.files_after)) {
      kinds.insert("modified");
      tokens.insert("modified a file during a read-only operation");
      j.diff += v + "\n";
    }
  }
  if (kinds.empty()) return j;
  j.outcome = Outcome::diverges;
  j.kinds.assign(kinds.begin(), kinds.end());
  j.fields.assign(tokens.begin(), tokens.end());
  if (j.fields.size() > 8) j.fields.resize(8);
  j.signature = operation_format(op);
  for (size_t i = 0; i < j.kinds.size(); i++) j.signature += (i ? "," : " ") + j.kinds[i];
  j.signature += " ::";
  for (size_t i = 0; i < j.fields.size(); i++) j.signature += (i ? " | " : " ") + j.fields[i];
  j.signature_id = signature_id(j.signature);
  return j;
}

Judgement judge_case(const Case& c, const CaseRun& run, const Normaliser& normaliser, size_t* operation) {
  Judgement result;
  if (!run.setup_error.empty()) {
    result.outcome = Outcome::inconclusive;
    result.why = run.setup_error;
    return result;
  }
  for (size_t i = 0; i < run.operations.size(); i++) {
    Judgement j = judge(c.operations[i], c.compare, run.operations[i], normaliser);
    if (j.outcome == Outcome::diverges) {
      if (operation) *operation = i;
      return j;
    }
    if (j.outcome == Outcome::inconclusive && result.outcome == Outcome::match) result = j;
  }
  return result;
}

}  // namespace instar::diff
