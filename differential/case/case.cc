// case.cc: parse, validate and serialise case files.
#include "differential/case/case.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "differential/case/contained_path.h"
#include "differential/case/hex.h"
#include "differential/common/whole_file.h"

namespace instar::diff {
namespace {

using Json = nlohmann::ordered_json;

// Setup `run` steps may start only these programs, taken from the profile replayed.
constexpr std::string_view kRunnablePrograms[] = {"qemu-img", "qemu-io"};
constexpr uint64_t kMaxAttempts = 100;
// An operation's `inspect` commands only look at the files the run left.
constexpr std::string_view kInspectSubcommands[] = {"map", "info", "compare", "check"};

// check inspects only read-only: its -r (--repair, or any abbreviation getopt accepts, or -r inside
// a cluster of short options such as -qr) would change the files it looks at. Over-strict on purpose:
// "-fraw" is refused too (write "-f", "raw").
bool is_repair_argument(const std::string& arg) {
  if (arg.rfind("--r", 0) == 0) return true;
  return arg.size() > 1 && arg[0] == '-' && arg[1] != '-' && arg.find('r') != std::string::npos;
}

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw CaseError(where.empty() ? what : where + ": " + what);
}

std::string join_where(const std::string& where, std::string_view key) {
  return where.empty() ? std::string(key) : where + "." + std::string(key);
}

std::string index_where(const std::string& where, size_t index) {
  return where + "[" + std::to_string(index) + "]";
}

void require_only_keys(const Json& object, const std::string& where,
                       std::initializer_list<std::string_view> allowed) {
  for (const auto& item : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end()) {
      fail(where, "unknown key \"" + item.key() + "\"");
    }
  }
}

const Json& require_key(const Json& object, const std::string& where, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end()) fail(where, "missing key \"" + std::string(key) + "\"");
  return *it;
}

const Json& require_object(const Json& value, const std::string& where) {
  if (!value.is_object()) fail(where, "expected an object");
  return value;
}

std::string read_string(const Json& value, const std::string& where) {
  if (!value.is_string()) fail(where, "expected a string");
  return value.get<std::string>();
}

std::string read_nonempty_string(const Json& value, const std::string& where) {
  std::string s = read_string(value, where);
  if (s.empty()) fail(where, "must not be empty");
  return s;
}

bool read_bool(const Json& value, const std::string& where) {
  if (!value.is_boolean()) fail(where, "expected true or false");
  return value.get<bool>();
}

uint64_t read_size(const Json& value, const std::string& where) {
  if (!value.is_number_unsigned()) fail(where, "expected a non-negative integer");
  uint64_t n = value.get<uint64_t>();
  if (n > static_cast<uint64_t>(INT64_MAX)) fail(where, "is too large");
  return n;
}

std::vector<std::string> read_string_array(const Json& value, const std::string& where) {
  if (!value.is_array()) fail(where, "expected an array of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < value.size(); i++) out.push_back(read_string(value[i], index_where(where, i)));
  return out;
}

std::string read_contained_path(const Json& value, const std::string& where) {
  std::string path = read_string(value, where);
  std::string why = why_not_contained(path);
  if (!why.empty())
    fail(where, "path \"" + path + "\" " + why + "; case files stay inside the case directory");
  return path;
}

std::string read_hex(const Json& value, const std::string& where) {
  std::string hex = read_string(value, where);
  auto bytes = decode_hex(hex);
  if (!bytes) fail(where, "expected an even number of hex digits");
  return *bytes;
}

RunStep parse_run(const Json& value, const std::string& where) {
  RunStep step{read_string_array(value, where)};
  if (step.argv.empty()) fail(where, "needs a program to run");
  const std::string& program = step.argv.front();
  if (std::find(std::begin(kRunnablePrograms), std::end(kRunnablePrograms), program) ==
      std::end(kRunnablePrograms)) {
    fail(index_where(where, 0),
         "\"" + program + "\" may not be run; a setup step runs only qemu-img or qemu-io");
  }
  return step;
}

PatchStep parse_patch(const Json& value, const std::string& where) {
  require_object(value, where);
  require_only_keys(value, where, {"file", "offset", "hex"});
  PatchStep step;
  step.file = read_contained_path(require_key(value, where, "file"), join_where(where, "file"));
  step.offset = read_size(require_key(value, where, "offset"), join_where(where, "offset"));
  step.bytes = read_hex(require_key(value, where, "hex"), join_where(where, "hex"));
  if (step.bytes.empty()) fail(join_where(where, "hex"), "a patch needs at least one byte");
  return step;
}

TruncateStep parse_truncate(const Json& value, const std::string& where) {
  require_object(value, where);
  require_only_keys(value, where, {"file", "size"});
  TruncateStep step;
  step.file = read_contained_path(require_key(value, where, "file"), join_where(where, "file"));
  step.size = read_size(require_key(value, where, "size"), join_where(where, "size"));
  return step;
}

CopyStep parse_copy(const Json& value, const std::string& where) {
  require_object(value, where);
  require_only_keys(value, where, {"from", "to"});
  CopyStep step;
  step.from = read_contained_path(require_key(value, where, "from"), join_where(where, "from"));
  step.to = read_contained_path(require_key(value, where, "to"), join_where(where, "to"));
  return step;
}

WriteFileStep parse_write_file(const Json& value, const std::string& where) {
  require_object(value, where);
  require_only_keys(value, where, {"file", "hex"});
  WriteFileStep step;
  step.file = read_contained_path(require_key(value, where, "file"), join_where(where, "file"));
  step.bytes = read_hex(require_key(value, where, "hex"), join_where(where, "hex"));
  return step;
}

AllocateStep parse_allocate(const Json& value, const std::string& where) {
  require_object(value, where);
  require_only_keys(value, where, {"file", "offset", "length", "unwritten"});
  AllocateStep step;
  step.file = read_contained_path(require_key(value, where, "file"), join_where(where, "file"));
  step.offset = read_size(require_key(value, where, "offset"), join_where(where, "offset"));
  step.length = read_size(require_key(value, where, "length"), join_where(where, "length"));
  if (step.length == 0) fail(join_where(where, "length"), "an allocation needs at least one byte");
  if (auto it = value.find("unwritten"); it != value.end()) step.unwritten = read_bool(*it, join_where(where, "unwritten"));
  if (step.offset + step.length < step.offset) fail(join_where(where, "length"), "the range wraps");
  return step;
}

MkdirStep parse_mkdir(const Json& value, const std::string& where) {
  return MkdirStep{read_contained_path(value, where)};
}

SetupStep parse_step(const Json& value, const std::string& where) {
  require_object(value, where);
  SetupStep step;
  int kinds = 0;
  for (const auto& item : value.items()) {
    const std::string& key = item.key();
    std::string at = join_where(where, key);
    if (key == "may_fail") {
      step.may_fail = read_bool(item.value(), at);
      continue;
    }
    if (key == "attempts") {
      uint64_t n = read_size(item.value(), at);
      if (n < 1 || n > kMaxAttempts) fail(at, "expected 1 to " + std::to_string(kMaxAttempts));
      step.attempts = static_cast<unsigned>(n);
      continue;
    }
    kinds++;
    if (key == "run") {
      step.action = parse_run(item.value(), at);
    } else if (key == "patch") {
      step.action = parse_patch(item.value(), at);
    } else if (key == "truncate") {
      step.action = parse_truncate(item.value(), at);
    } else if (key == "copy") {
      step.action = parse_copy(item.value(), at);
    } else if (key == "write_file") {
      step.action = parse_write_file(item.value(), at);
    } else if (key == "mkdir") {
      step.action = parse_mkdir(item.value(), at);
    } else if (key == "allocate") {
      step.action = parse_allocate(item.value(), at);
    } else {
      fail(where, "unknown setup step \"" + key +
                      "\" (expected run, patch, truncate, copy, write_file, mkdir or allocate)");
    }
  }
  if (kinds == 0)
    fail(where, "a setup step needs one of run, patch, truncate, copy, write_file, mkdir or allocate");
  if (kinds > 1) fail(where, "a setup step does exactly one thing");
  if (step.attempts != 1 && !std::holds_alternative<RunStep>(step.action)) {
    fail(join_where(where, "attempts"), "only a run step may be retried");
  }
  return step;
}

Operation parse_operation(const Json& value, const std::string& where) {
  require_object(value, where);
  require_only_keys(value, where, {"args", "writes", "inspect", "expect"});
  Operation op;
  op.args = read_string_array(require_key(value, where, "args"), join_where(where, "args"));
  if (op.args.empty()) fail(join_where(where, "args"), "needs at least a qemu-img subcommand");
  if (auto it = value.find("writes"); it != value.end())
    op.writes = read_bool(*it, join_where(where, "writes"));
  if (auto it = value.find("inspect"); it != value.end()) {
    std::string w = join_where(where, "inspect");
    if (!it->is_array() || it->empty()) fail(w, "expected a non-empty array of qemu-img argument arrays");
    for (size_t i = 0; i < it->size(); i++) {
      std::string iw = index_where(w, i);
      std::vector<std::string> argv = read_string_array((*it)[i], iw);
      if (argv.empty()) fail(iw, "needs a qemu-img subcommand");
      if (std::find(std::begin(kInspectSubcommands), std::end(kInspectSubcommands), argv.front()) ==
          std::end(kInspectSubcommands)) {
        fail(index_where(iw, 0),
             "\"" + argv.front() +
                 "\" may not inspect; an inspection runs only qemu-img map, info, compare or check");
      }
      if (argv.front() == "check") {
        for (size_t a = 1; a < argv.size(); a++)
          if (is_repair_argument(argv[a]))
            fail(index_where(iw, a), "\"" + argv[a] + "\" may not inspect; an inspection never repairs");
      }
      op.inspect.push_back(std::move(argv));
    }
  }
  if (auto it = value.find("expect"); it != value.end()) {
    std::string w = join_where(where, "expect");
    require_object(*it, w);
    for (const auto& item : it->items()) {
      std::string pw = join_where(w, item.key());
      if (!is_known_profile(item.key())) fail(w, "unknown profile \"" + item.key() + "\"");
      require_object(item.value(), pw);
      require_only_keys(item.value(), pw, {"exit", "stdout", "stderr"});
      const Json& code = require_key(item.value(), pw, "exit");
      if (!code.is_number_integer()) fail(join_where(pw, "exit"), "expected an integer");
      Expectation e;
      e.profile = item.key();
      e.exit_code = code.get<int>();
      e.out = read_string(require_key(item.value(), pw, "stdout"), join_where(pw, "stdout"));
      e.err = read_string(require_key(item.value(), pw, "stderr"), join_where(pw, "stderr"));
      op.expect.push_back(std::move(e));
    }
  }
  return op;
}

Field parse_field(const Json& value, const std::string& where) {
  std::string name = read_string(value, where);
  for (Field f : {Field::exit_status, Field::stdout_text, Field::stderr_text, Field::files}) {
    if (field_name(f) == name) return f;
  }
  fail(where, "unknown field \"" + name + "\" (expected exit, stdout, stderr or files)");
}

bool is_case_name(std::string_view name) {
  if (name.empty() || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

bool is_env_name(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Json step_to_json(const SetupStep& step) {
  Json out = Json::object();
  std::visit(
      [&out](const auto& action) {
        using T = std::decay_t<decltype(action)>;
        if constexpr (std::is_same_v<T, RunStep>) {
          out["run"] = action.argv;
        } else if constexpr (std::is_same_v<T, PatchStep>) {
          out["patch"] =
              Json{{"file", action.file}, {"offset", action.offset}, {"hex", encode_hex(action.bytes)}};
        } else if constexpr (std::is_same_v<T, TruncateStep>) {
          out["truncate"] = Json{{"file", action.file}, {"size", action.size}};
        } else if constexpr (std::is_same_v<T, CopyStep>) {
          out["copy"] = Json{{"from", action.from}, {"to", action.to}};
        } else if constexpr (std::is_same_v<T, WriteFileStep>) {
          out["write_file"] = Json{{"file", action.file}, {"hex", encode_hex(action.bytes)}};
        } else if constexpr (std::is_same_v<T, MkdirStep>) {
          out["mkdir"] = action.dir;
        } else {
          out["allocate"] = Json{{"file", action.file}, {"offset", action.offset}, {"length", action.length}};
          if (action.unwritten) out["allocate"]["unwritten"] = true;
        }
      },
      step.action);
  if (step.may_fail) out["may_fail"] = true;
  if (step.attempts != 1) out["attempts"] = step.attempts;
  return out;
}

// JSON on one line with a space after each ':' and ',' (Python's json.dumps layout).
std::string compact(const Json& value) {
  std::string out;
  if (value.is_object()) {
    out = "{";
    for (const auto& item : value.items()) {
      out += (out.size() > 1 ? ", " : "") + Json(item.key()).dump() + ": " + compact(item.value());
    }
    return out + "}";
  }
  if (value.is_array()) {
    out = "[";
    for (const auto& element : value) out += (out.size() > 1 ? ", " : "") + compact(element);
    return out + "]";
  }
  return value.dump();
}

}  // namespace

const std::vector<std::string>& known_profiles() {
  static const std::vector<std::string> profiles = {"7.2", "10.0"};
  return profiles;
}

bool is_known_profile(std::string_view profile) {
  const auto& all = known_profiles();
  return std::find(all.begin(), all.end(), profile) != all.end();
}

std::string_view field_name(Field field) {
  switch (field) {
    case Field::exit_status:
      return "exit";
    case Field::stdout_text:
      return "stdout";
    case Field::stderr_text:
      return "stderr";
    case Field::files:
      return "files";
  }
  return "?";
}

const Expectation* Operation::expectation_for(std::string_view profile) const {
  for (const Expectation& e : expect) {
    if (e.profile == profile) return &e;
  }
  return nullptr;
}

bool Case::applies_to(std::string_view profile) const {
  return profiles.empty() || std::find(profiles.begin(), profiles.end(), profile) != profiles.end();
}

Case parse_case(std::string_view json_text) {
  Json root;
  try {
    root = Json::parse(json_text.begin(), json_text.end());
  } catch (const Json::parse_error& e) {
    throw CaseError(std::string("not valid JSON: ") + e.what());
  }
  require_object(root, "case");
  require_only_keys(
      root, "",
      {"name", "description", "divergence", "profiles", "env", "setup", "fixture", "operations", "compare"});

  Case c;
  c.name = read_string(require_key(root, "", "name"), "name");
  if (!is_case_name(c.name)) fail("name", "\"" + c.name + "\" is not kebab-case ([a-z0-9.-])");
  c.description = read_nonempty_string(require_key(root, "", "description"), "description");
  if (auto it = root.find("divergence"); it != root.end()) {
    c.divergence = read_nonempty_string(*it, "divergence");
    if (!is_case_name(c.divergence))
      fail("divergence", "\"" + c.divergence + "\" is not kebab-case ([a-z0-9.-])");
  }

  if (auto it = root.find("profiles"); it != root.end()) {
    c.profiles = read_string_array(*it, "profiles");
    if (c.profiles.empty()) fail("profiles", "must name at least one profile (omit the key for all)");
    for (size_t i = 0; i < c.profiles.size(); i++) {
      if (!is_known_profile(c.profiles[i]))
        fail(index_where("profiles", i), "unknown profile \"" + c.profiles[i] + "\"");
    }
  }

  if (auto it = root.find("env"); it != root.end()) {
    require_object(*it, "env");
    for (const auto& item : it->items()) {
      if (!is_env_name(item.key())) fail("env", "\"" + item.key() + "\" is not a variable name");
      if (item.key() == "PATH" || item.key() == "INSTAR_QEMU_VERSION") {
        fail("env", item.key() + " is set by the runner");
      }
      c.env.emplace_back(item.key(), read_string(item.value(), join_where("env", item.key())));
    }
  }

  if (auto it = root.find("setup"); it != root.end()) {
    if (!it->is_array()) fail("setup", "expected an array of steps");
    for (size_t i = 0; i < it->size(); i++) c.setup.push_back(parse_step((*it)[i], index_where("setup", i)));
  }

  if (auto it = root.find("fixture"); it != root.end()) {
    if (!it->is_array()) fail("fixture", "expected an array of steps");
    for (size_t i = 0; i < it->size(); i++) {
      SetupStep step = parse_step((*it)[i], index_where("fixture", i));
      if (std::holds_alternative<RunStep>(step.action) || std::holds_alternative<CopyStep>(step.action))
        fail(index_where("fixture", i), "a fixture holds only truncate, allocate, patch, write_file and mkdir steps");
      c.fixture.push_back(std::move(step));
    }
  }

  const Json& ops = require_key(root, "", "operations");
  if (!ops.is_array() || ops.empty()) fail("operations", "expected a non-empty array");
  for (size_t i = 0; i < ops.size(); i++)
    c.operations.push_back(parse_operation(ops[i], index_where("operations", i)));

  if (auto it = root.find("compare"); it != root.end()) {
    if (!it->is_array() || it->empty()) fail("compare", "expected a non-empty array of fields");
    for (size_t i = 0; i < it->size(); i++) {
      Field f = parse_field((*it)[i], index_where("compare", i));
      if (std::find(c.compare.begin(), c.compare.end(), f) != c.compare.end()) {
        fail(index_where("compare", i), "\"" + std::string(field_name(f)) + "\" is listed twice");
      }
      c.compare.push_back(f);
    }
  } else {
    c.compare = {Field::exit_status, Field::stdout_text, Field::stderr_text};
  }
  return c;
}

Case load_case(const std::filesystem::path& file) {
  std::optional<std::string> text = read_whole_file(file);
  if (!text) throw CaseError(file.string() + ": cannot open");
  try {
    return parse_case(*text);
  } catch (const CaseError& e) {
    throw CaseError(file.string() + ": " + e.what());
  }
}

std::string serialise_case(const Case& c) {
  Json root = Json::object();
  root["name"] = c.name;
  root["description"] = c.description;
  if (!c.divergence.empty()) root["divergence"] = c.divergence;
  if (!c.profiles.empty()) root["profiles"] = c.profiles;
  if (!c.env.empty()) {
    Json env = Json::object();
    for (const auto& [key, value] : c.env) env[key] = value;
    root["env"] = env;
  }
  Json setup = Json::array();
  for (const SetupStep& step : c.setup) setup.push_back(step_to_json(step));
  root["setup"] = setup;
  if (!c.fixture.empty()) {
    Json fixture = Json::array();
    for (const SetupStep& step : c.fixture) fixture.push_back(step_to_json(step));
    root["fixture"] = fixture;
  }
  Json ops = Json::array();
  for (const Operation& op : c.operations) {
    Json o = Json::object();
    o["args"] = op.args;
    if (op.writes) o["writes"] = true;
    if (!op.inspect.empty()) o["inspect"] = op.inspect;
    if (!op.expect.empty()) {
      Json expect = Json::object();
      for (const Expectation& e : op.expect)
        expect[e.profile] = Json{{"exit", e.exit_code}, {"stdout", e.out}, {"stderr", e.err}};
      o["expect"] = expect;
    }
    ops.push_back(o);
  }
  root["operations"] = ops;
  Json compare = Json::array();
  for (Field f : c.compare) compare.push_back(std::string(field_name(f)));
  root["compare"] = compare;

  // One key per line; each setup step and operation on a line of its own.
  std::string out = "{\n";
  bool first = true;
  for (const auto& item : root.items()) {
    out += first ? "" : ",\n";
    first = false;
    out += "  " + Json(item.key()).dump() + ": ";
    const Json& value = item.value();
    if ((item.key() == "setup" || item.key() == "fixture" || item.key() == "operations") && !value.empty()) {
      out += "[\n";
      for (size_t i = 0; i < value.size(); i++)
        out += "    " + compact(value[i]) + (i + 1 < value.size() ? ",\n" : "\n");
      out += "  ]";
    } else {
      out += compact(value);
    }
  }
  return out + "\n}\n";
}

}  // namespace instar::diff
