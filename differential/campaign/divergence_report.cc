// divergence_report.cc: one JSON file per divergence — seed, iteration, case, both results, diff, signature.
#include "differential/campaign/divergence_report.h"

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "differential/common/whole_file.h"

namespace instar::diff {
namespace {

using Json = nlohmann::ordered_json;

SideResult side(const RunCapture& c) {
  return SideResult{describe_ending(c.process), c.process.code, c.process.out, c.process.err};
}

Json side_json(const SideResult& s) {
  return Json{{"ending", s.ending}, {"exit", s.exit_code}, {"stdout", s.out}, {"stderr", s.err}};
}

SideResult side_from(const Json& j) {
  return SideResult{j.at("ending").get<std::string>(), j.at("exit").get<int>(),
                    j.at("stdout").get<std::string>(), j.at("stderr").get<std::string>()};
}

// Strings are sanitised by nlohmann's dump with replacement of invalid UTF-8.
std::string dump(const Json& j) { return j.dump(2, ' ', false, Json::error_handler_t::replace); }

}  // namespace

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

DivergenceReport make_report(const Case& c, const CaseRun& run, const Judgement& j, size_t operation) {
  DivergenceReport r;
  r.signature = j.signature;
  r.signature_id = j.signature_id;
  r.operation = operation;
  r.found_at = utc_now();
  r.case_ = c;
  r.reference_result = side(run.operations[operation].reference);
  r.subject_result = side(run.operations[operation].subject);
  r.diff = j.diff;
  return r;
}

std::string report_to_json(const DivergenceReport& r) {
  Json j = Json::object();
  j["signature"] = r.signature;
  j["signature_id"] = r.signature_id;
  j["known"] = r.known.empty() ? Json(nullptr) : Json(r.known);
  j["seed"] = r.seed;
  j["iteration"] = r.iteration;
  j["profile"] = r.profile;
  j["reference"] = r.reference;
  j["subject"] = r.subject;
  j["operation"] = r.operation;
  j["found_at"] = r.found_at;
  j["case"] = Json::parse(serialise_case(r.case_));
  j["reference_result"] = side_json(r.reference_result);
  j["subject_result"] = side_json(r.subject_result);
  j["diff"] = r.diff;
  j["minimal_case"] = r.minimal ? Json::parse(serialise_case(*r.minimal)) : Json(nullptr);
  j["minimise_runs"] = r.minimise_runs;
  j["minimise_seconds"] = r.minimise_seconds;
  return dump(j) + "\n";
}

DivergenceReport report_from_json(const std::string& text) {
  Json j = Json::parse(text);
  DivergenceReport r;
  r.signature = j.at("signature").get<std::string>();
  r.signature_id = j.at("signature_id").get<std::string>();
  if (!j.at("known").is_null()) r.known = j.at("known").get<std::string>();
  r.seed = j.at("seed").get<uint64_t>();
  r.iteration = j.at("iteration").get<uint64_t>();
  r.profile = j.at("profile").get<std::string>();
  r.reference = j.at("reference").get<std::string>();
  r.subject = j.at("subject").get<std::string>();
  r.operation = j.at("operation").get<size_t>();
  r.found_at = j.at("found_at").get<std::string>();
  r.case_ = parse_case(j.at("case").dump());
  r.reference_result = side_from(j.at("reference_result"));
  r.subject_result = side_from(j.at("subject_result"));
  r.diff = j.at("diff").get<std::string>();
  if (!j.at("minimal_case").is_null()) r.minimal = parse_case(j.at("minimal_case").dump());
  r.minimise_runs = j.value("minimise_runs", size_t{0});
  r.minimise_seconds = j.value("minimise_seconds", 0.0);
  return r;
}

DivergenceReport load_report(const std::filesystem::path& file) {
  std::optional<std::string> text = read_whole_file(file);
  if (!text) throw std::runtime_error("cannot read " + file.string());
  return report_from_json(*text);
}

void save_report(const DivergenceReport& r, const std::filesystem::path& file) {
  std::filesystem::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp);
    out << report_to_json(r);
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, file);
}

}  // namespace instar::diff
