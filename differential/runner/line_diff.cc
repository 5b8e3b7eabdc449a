// line_diff.cc: LCS over lines (common prefix and suffix trimmed first), then hunks with context.
#include "differential/runner/line_diff.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace instar::diff {
namespace {

struct Line {
  std::string_view text;  // without the newline
  bool newline = true;
  bool operator==(const Line&) const = default;
};

std::vector<Line> split_lines(std::string_view s) {
  std::vector<Line> lines;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back({s.substr(start), false});
      break;
    }
    lines.push_back({s.substr(start, end - start), true});
    start = end + 1;
  }
  return lines;
}

enum class Edit { keep, remove, add };

// Above this many LCS cells the middle is shown as one block removed and one added.
constexpr size_t kMaxCells = 4u << 20;

std::vector<Edit> edit_script(const std::vector<Line>& a, const std::vector<Line>& b) {
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) prefix++;
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
    suffix++;
  }
  size_t n = a.size() - prefix - suffix;
  size_t m = b.size() - prefix - suffix;
  std::vector<Edit> script(prefix, Edit::keep);
  if (n > 0 && m > 0 && (n + 1) * (m + 1) <= kMaxCells) {
    // lcs[i][j]: LCS length of a[prefix+i..] and b[prefix+j..].
    std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [m](size_t i, size_t j) { return i * (m + 1) + j; };
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        lcs[at(i, j)] = a[prefix + i] == b[prefix + j] ? lcs[at(i + 1, j + 1)] + 1
                                                       : std::max(lcs[at(i + 1, j)], lcs[at(i, j + 1)]);
      }
    }
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[prefix + i] == b[prefix + j]) {
        script.push_back(Edit::keep);
        i++;
        j++;
      } else if (i < n && (j == m || lcs[at(i + 1, j)] >= lcs[at(i, j + 1)])) {
        script.push_back(Edit::remove);  // removals first, as diff -u shows them
        i++;
      } else {
        script.push_back(Edit::add);
        j++;
      }
    }
  } else {
    script.insert(script.end(), n, Edit::remove);
    script.insert(script.end(), m, Edit::add);
  }
  script.insert(script.end(), suffix, Edit::keep);
  return script;
}

void append_line(std::string& out, char tag, const Line& line) {
  out.push_back(tag);
  for (unsigned char c : line.text) {
    if (c < 0x20 && c != '\t') {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else if (c == 0x7f) {
      out += "\\x7f";
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('\n');
  if (!line.newline) out += "\\ No newline at end of output\n";
}

std::string range(size_t start, size_t count) {
  // Unified diff numbering: a zero-length range names the line before it.
  return std::to_string(count == 0 ? start : start + 1) + "," + std::to_string(count);
}

}  // namespace

std::string unified_line_diff(std::string_view a, std::string_view b, std::string_view a_label,
                              std::string_view b_label, size_t context) {
  if (a == b) return "";
  std::vector<Line> la = split_lines(a);
  std::vector<Line> lb = split_lines(b);
  std::vector<Edit> script = edit_script(la, lb);

  // Positions in `script` and, for each, the line numbers in a and b reached before it.
  std::vector<size_t> a_pos(script.size() + 1), b_pos(script.size() + 1);
  for (size_t k = 0; k < script.size(); k++) {
    a_pos[k + 1] = a_pos[k] + (script[k] != Edit::add);
    b_pos[k + 1] = b_pos[k] + (script[k] != Edit::remove);
  }

  std::string out = "--- " + std::string(a_label) + "\n+++ " + std::string(b_label) + "\n";
  size_t k = 0;
  while (k < script.size()) {
    if (script[k] == Edit::keep) {
      k++;
      continue;
    }
    // A hunk: from `context` keeps before this change to `context` keeps after
    // the last change that is at most 2*context keeps further on.
    size_t begin = k >= context ? k - context : 0;
    size_t end = k;
    for (;;) {
      while (end < script.size() && script[end] != Edit::keep) end++;
      size_t keeps = 0;
      while (end + keeps < script.size() && script[end + keeps] == Edit::keep) keeps++;
      if (end + keeps < script.size() && keeps <= 2 * context) {
        end += keeps;
        continue;
      }
      end = std::min(script.size(), end + context);
      break;
    }
    out += "@@ -" + range(a_pos[begin], a_pos[end] - a_pos[begin]) + " +" +
           range(b_pos[begin], b_pos[end] - b_pos[begin]) + " @@\n";
    for (size_t p = begin; p < end; p++) {
      if (script[p] == Edit::keep) append_line(out, ' ', la[a_pos[p]]);
      if (script[p] == Edit::remove) append_line(out, '-', la[a_pos[p]]);
      if (script[p] == Edit::add) append_line(out, '+', lb[b_pos[p]]);
    }
    k = end;
  }
  return out;
}

}  // namespace instar::diff
