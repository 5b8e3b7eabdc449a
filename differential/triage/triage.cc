// triage.cc: group divergence reports by signature — count, first and last seen, minimal case, replay
// command.
#include "differential/triage/triage.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "differential/runner/command_line.h"

namespace instar::diff {
namespace {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::vector<TriageGroup> triage_directory(const std::filesystem::path& dir) {
  std::map<std::string, TriageGroup> groups;
  std::set<std::string> minimised;  // groups whose example carries its minimal case
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    DivergenceReport r;
    try {
      r = load_report(file);
    } catch (const std::exception&) {
      continue;  // minimal/*.json are cases, not reports
    }
    TriageGroup& g = groups[r.signature_id];
    g.signature = r.signature;
    g.signature_id = r.signature_id;
    g.known = r.known;
    g.count++;
    if (g.first_seen.empty() || r.found_at < g.first_seen) g.first_seen = r.found_at;
    if (r.found_at > g.last_seen) g.last_seen = r.found_at;
    // The example is the first report, unless a later one was minimised (only the first of a
    // signature a campaign finds is, and with several workers it need not sort first).
    if (g.example.empty() || (r.minimal && minimised.count(r.signature_id) == 0)) {
      if (r.minimal) minimised.insert(r.signature_id);
      g.example = file;
      g.diff = r.diff;
      g.minimal_case = serialise_case(r.minimal ? *r.minimal : r.case_);
      g.replay_command = "instar-diff minimise " + shell_quote(file.string());
      if (r.minimal) {
        std::filesystem::path min =
            file.parent_path().parent_path() / "minimal" / (r.minimal->name + ".json");
        g.replay_command = "instar-diff replay --subject " + shell_quote(r.subject) + " --qemu " + r.profile +
                           "=" + shell_quote(std::filesystem::path(r.reference).parent_path().string()) +
                           " --profile " + r.profile + " " + shell_quote(min.string());
      }
    }
  }
  std::vector<TriageGroup> out;
  for (auto& [id, g] : groups) out.push_back(std::move(g));
  std::stable_sort(out.begin(), out.end(), [](const TriageGroup& a, const TriageGroup& b) {
    if (a.known.empty() != b.known.empty()) return a.known.empty();
    return a.count > b.count;
  });
  return out;
}

std::string triage_text(const std::vector<TriageGroup>& groups) {
  size_t fresh = std::count_if(groups.begin(), groups.end(), [](const auto& g) { return g.known.empty(); });
  std::string out = std::to_string(groups.size()) + " signatures: " + std::to_string(fresh) + " new, " +
                    std::to_string(groups.size() - fresh) + " known\n";
  for (const auto& g : groups) {
    out += "\n" + std::string(g.known.empty() ? "NEW   " : "KNOWN ") + g.signature_id + " x" +
           std::to_string(g.count) + (g.known.empty() ? "" : " (" + g.known + ")") + "\n";
    out += "  signature: " + g.signature + "\n";
    out += "  seen: " + g.first_seen + " .. " + g.last_seen + "\n";
    out += "  replay: " + g.replay_command + "\n";
  }
  return out;
}

std::string triage_json(const std::vector<TriageGroup>& groups) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const auto& g : groups) {
    all.push_back(
        {{"signature_id", g.signature_id},
         {"signature", g.signature},
         {"known", g.known.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(g.known)},
         {"count", g.count},
         {"first_seen", g.first_seen},
         {"last_seen", g.last_seen},
         {"example", g.example.string()},
         {"replay", g.replay_command},
         {"minimal_case", nlohmann::ordered_json::parse(g.minimal_case)}});
  }
  return all.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string triage_html(const std::vector<TriageGroup>& groups) {
  std::string out =
      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>instar-diff triage</title>\n"
      "<style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:.5em;overflow:auto}"
      ".new{color:#b00}.known{color:#666}</style></head><body>\n<h1>instar-diff triage</h1>\n<pre>" +
      html_escape(triage_text(groups).substr(0, triage_text(groups).find('\n'))) + "</pre>\n";
  for (const auto& g : groups) {
    out += "<h2 class=\"" + std::string(g.known.empty() ? "new" : "known") + "\">" +
           (g.known.empty() ? "new" : "known: " + html_escape(g.known)) + " — " + g.signature_id + " ×" +
           std::to_string(g.count) + "</h2>\n<p><code>" + html_escape(g.signature) + "</code></p>\n<p>seen " +
           g.first_seen + " .. " + g.last_seen + "</p>\n<p>replay: <code>" + html_escape(g.replay_command) +
           "</code></p>\n<details><summary>difference</summary><pre>" + html_escape(g.diff) +
           "</pre></details>\n<details><summary>minimal case</summary><pre>" + html_escape(g.minimal_case) +
           "</pre></details>\n";
  }
  return out + "</body></html>\n";
}

}  // namespace instar::diff
