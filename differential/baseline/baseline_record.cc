// baseline_record.cc: one case's recorded reference behaviour for one qemu-img version, and its files on
// disk.
#include "differential/baseline/baseline_record.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "differential/baseline/compressed_file.h"
#include "differential/baseline/placeholder.h"
#include "differential/runner/command_line.h"

namespace instar::diff {
namespace {

using Json = nlohmann::ordered_json;

// Setup and fixture steps in the case file's JSON form, via the case serialiser.
Json steps_to_json(const std::vector<SetupStep>& setup, const std::vector<SetupStep>& fixture) {
  Case c;
  c.name = "record";
  c.setup = setup;
  c.fixture = fixture;
  c.operations.push_back(Operation{{"info"}, false, {}, {}});
  c.compare = {Field::exit_status};
  return Json::parse(serialise_case(c));
}

std::string output_name(const std::string& case_name, const char* stream, size_t index, size_t count,
                        size_t size) {
  std::string name = case_name + "." + stream;
  if (count > 1) name += "." + std::to_string(index + 1);
  if (size > kCompressAbove) name += ".zst";
  return name;
}

// <case>.inspect.<operation>.<inspection>.<stream>[.zst], both numbers 1-based.
std::string inspection_output_name(const std::string& case_name, size_t operation, size_t inspection,
                                   const char* stream, size_t size) {
  std::string name = case_name + ".inspect." + std::to_string(operation + 1) + "." +
                     std::to_string(inspection + 1) + "." + stream;
  if (size > kCompressAbove) name += ".zst";
  return name;
}

// A data extent as one reviewable line: "OFFSET+LENGTH SHA256".
std::string extent_text(const DataExtent& e) {
  return std::to_string(e.offset) + "+" + std::to_string(e.length) + " " + e.sha256;
}

DataExtent parse_extent(const std::string& text) {
  static const std::regex pattern(R"(^([0-9]{1,20})\+([0-9]{1,20}) ([0-9a-f]{64})$)");
  std::smatch m;
  if (!std::regex_match(text, m, pattern))
    throw std::runtime_error("data extent \"" + text + "\" is not \"OFFSET+LENGTH SHA256\"");
  return DataExtent{std::stoull(m[1].str()), std::stoull(m[2].str()), m[3].str()};
}

Json files_to_json(const std::vector<WrittenFile>& files) {
  Json out = Json::array();
  for (const WrittenFile& f : files) {
    Json j = {{"path", f.path}};
    if (f.kind == WrittenFile::Kind::removed) {
      j["removed"] = true;
    } else if (f.kind == WrittenFile::Kind::directory) {
      j["directory"] = true;
    } else {
      j["size"] = f.size;
      Json data = Json::array();
      for (const DataExtent& e : f.data) data.push_back(extent_text(e));
      j["data"] = data;
    }
    out.push_back(j);
  }
  return out;
}

std::vector<WrittenFile> files_from_json(const Json& files) {
  std::vector<WrittenFile> out;
  for (const Json& j : files) {
    WrittenFile f;
    f.path = j.at("path").get<std::string>();
    if (j.value("removed", false)) {
      f.kind = WrittenFile::Kind::removed;
    } else if (j.value("directory", false)) {
      f.kind = WrittenFile::Kind::directory;
    } else {
      f.size = j.at("size").get<uint64_t>();
      for (const Json& e : j.at("data")) f.data.push_back(parse_extent(e.get<std::string>()));
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

std::string steps_json(const std::vector<SetupStep>& steps) {
  return steps_to_json(steps, {})["setup"].dump();
}

std::string record_case_of(const std::filesystem::path& file) {
  static const std::regex pattern(
      R"(^(.+?)\.(meta\.json|fixture\.json\.zst|(stdout|stderr)(\.[0-9]+)?(\.zst)?|inspect\.[0-9]+\.[0-9]+\.(stdout|stderr)(\.zst)?)$)");
  std::smatch m;
  std::string name = file.filename().string();
  return std::regex_match(name, m, pattern) ? m[1].str() : "";
}

std::vector<std::filesystem::path> record_files(const std::filesystem::path& dir,
                                                const std::string& case_name) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file() && record_case_of(e.path()) == case_name) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

void save_record(const BaselineRecord& record, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  for (const auto& stale : record_files(dir, record.case_name)) std::filesystem::remove(stale);
  Json steps = steps_to_json(record.setup, record.fixture);
  Json meta = Json::object();
  meta["case"] = record.case_name;
  meta["version"] = record.version;
  meta["tool_version"] = record.tool_version;
  meta["cwd"] = kWorkPlaceholder;
  meta["setup"] = steps["setup"];
  // A large fixture (written data) goes to <case>.fixture.json.zst, which meta.json names.
  Json fixture = steps.contains("fixture") ? steps["fixture"] : Json::array();
  if (std::string text = fixture.dump(); text.size() > kCompressAbove) {
    std::string name = record.case_name + ".fixture.json.zst";
    write_baseline_file(dir / name, text);
    meta["fixture"] = name;
  } else {
    meta["fixture"] = fixture;
  }
  Json ops = Json::array();
  size_t count = record.operations.size();
  for (size_t i = 0; i < count; i++) {
    const RecordedOperation& op = record.operations[i];
    std::string out = output_name(record.case_name, "stdout", i, count, op.out.size());
    std::string err = output_name(record.case_name, "stderr", i, count, op.err.size());
    write_baseline_file(dir / out, op.out);
    write_baseline_file(dir / err, op.err);
    Json j = {{"argv", op.argv},
              {"command_line", shell_join(op.argv)},
              {"exit", op.exit_code},
              {"stdout", out},
              {"stderr", err}};
    if (op.inspections_recorded) {
      Json inspections = Json::array();
      for (size_t k = 0; k < op.inspections.size(); k++) {
        const RecordedInspection& in = op.inspections[k];
        std::string in_out = inspection_output_name(record.case_name, i, k, "stdout", in.out.size());
        std::string in_err = inspection_output_name(record.case_name, i, k, "stderr", in.err.size());
        write_baseline_file(dir / in_out, in.out);
        write_baseline_file(dir / in_err, in.err);
        inspections.push_back(
            Json{{"args", in.args}, {"exit", in.exit_code}, {"stdout", in_out}, {"stderr", in_err}});
      }
      j["inspections"] = inspections;
    }
    if (op.files) j["files"] = files_to_json(*op.files);
    ops.push_back(j);
  }
  meta["operations"] = ops;
  std::ofstream(dir / (record.case_name + ".meta.json"), std::ios::trunc) << meta.dump(1) << "\n";
}

BaselineRecord load_record(const std::filesystem::path& meta_file) {
  std::ifstream in(meta_file);
  if (!in) throw std::runtime_error(meta_file.string() + ": cannot open");
  BaselineRecord r;
  try {
    Json meta = Json::parse(in);
    r.case_name = meta.at("case").get<std::string>();
    r.version = meta.at("version").get<std::string>();
    r.tool_version = meta.at("tool_version").get<std::string>();
    std::filesystem::path dir = meta_file.parent_path();
    Json fixture = meta.at("fixture");
    if (fixture.is_string()) fixture = Json::parse(read_baseline_file(dir / fixture.get<std::string>()));
    Json stub = {{"name", "record"},
                 {"description", "baseline record"},
                 {"setup", meta.at("setup")},
                 {"operations", Json::array({Json{{"args", Json::array({"info"})}}})},
                 {"compare", Json::array({"exit"})}};
    if (!fixture.empty()) stub["fixture"] = fixture;
    Case c = parse_case(stub.dump());
    r.setup = c.setup;
    r.fixture = c.fixture;
    for (const Json& op : meta.at("operations")) {
      RecordedOperation o;
      o.argv = op.at("argv").get<std::vector<std::string>>();
      o.exit_code = op.at("exit").get<int>();
      o.out = read_baseline_file(dir / op.at("stdout").get<std::string>());
      o.err = read_baseline_file(dir / op.at("stderr").get<std::string>());
      o.inspections_recorded = op.contains("inspections");
      if (o.inspections_recorded)
        for (const Json& in : op.at("inspections"))
          o.inspections.push_back(
              RecordedInspection{in.at("args").get<std::vector<std::string>>(), in.at("exit").get<int>(),
                                 read_baseline_file(dir / in.at("stdout").get<std::string>()),
                                 read_baseline_file(dir / in.at("stderr").get<std::string>())});
      if (op.contains("files")) o.files = files_from_json(op.at("files"));
      r.operations.push_back(std::move(o));
    }
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(meta_file.string() + ": " + e.what());
  } catch (const std::exception& e) {
    throw std::runtime_error(meta_file.string() + ": malformed: " + e.what());
  }
  return r;
}

}  // namespace instar::diff
