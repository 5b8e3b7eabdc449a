// case_test.cc: parsing, validation and serialisation of case files.
#include "differential/case/case.h"

#include <gtest/gtest.h>

#include <string>

namespace instar::diff {
namespace {

constexpr const char* kFullCase = R"({
  "name": "qcow2-cluster-512",
  "description": "why this case exists",
  "profiles": ["7.2", "10.0"],
  "env": {"TZ": "UTC", "LC_ALL": "C"},
  "setup": [
    {"run": ["qemu-img", "create", "-f", "qcow2", "-o", "cluster_size=512", "img.qcow2", "64M"]},
    {"run": ["qemu-io", "-c", "write -P 0xaa 0 1M", "img.qcow2"], "may_fail": true},
    {"patch": {"file": "img.qcow2", "offset": 4, "hex": "00000004"}},
    {"truncate": {"file": "img.qcow2", "size": 100}},
    {"copy": {"from": "img.qcow2", "to": "b.qcow2"}},
    {"write_file": {"file": "x.bin", "hex": "00ff"}},
    {"mkdir": "sub"},
    {"run": ["qemu-img", "snapshot", "-c", "s", "img.qcow2"], "attempts": 3}
  ],
  "operations": [
    {"args": ["info", "img.qcow2"]},
    {"args": ["info", "--output=json", "img.qcow2"], "writes": true}
  ],
  "compare": ["exit", "stdout", "stderr", "files"]
}
)";

// A minimal valid case with `extra` spliced in as further top-level keys.
std::string minimal_with(const std::string& extra) {
  return R"({"name": "c", "description": "d", "operations": [{"args": ["info", "x"]}])" +
         (extra.empty() ? "" : ", " + extra) + "}";
}

std::string setup_with(const std::string& step) { return minimal_with(R"("setup": [)" + step + "]"); }

// The message of the CaseError that parsing `json` throws, or "" if it parses.
std::string parse_error(const std::string& json) {
  try {
    (void)parse_case(json);
  } catch (const CaseError& e) {
    return e.what();
  }
  return "";
}

TEST(CaseParse, ReadsEveryField) {
  Case c = parse_case(kFullCase);
  EXPECT_EQ(c.name, "qcow2-cluster-512");
  EXPECT_EQ(c.description, "why this case exists");
  EXPECT_EQ(c.profiles, (std::vector<std::string>{"7.2", "10.0"}));
  ASSERT_EQ(c.env.size(), 2u);
  EXPECT_EQ(c.env[0], (std::pair<std::string, std::string>{"TZ", "UTC"}));
  EXPECT_EQ(c.env[1].first, "LC_ALL");
  ASSERT_EQ(c.setup.size(), 8u);

  const auto& run = std::get<RunStep>(c.setup[0].action);
  EXPECT_EQ(run.argv.front(), "qemu-img");
  EXPECT_FALSE(c.setup[0].may_fail);
  EXPECT_TRUE(c.setup[1].may_fail);
  const auto& patch = std::get<PatchStep>(c.setup[2].action);
  EXPECT_EQ(patch.file, "img.qcow2");
  EXPECT_EQ(patch.offset, 4u);
  EXPECT_EQ(patch.bytes, std::string("\0\0\0\x04", 4));
  EXPECT_EQ(std::get<TruncateStep>(c.setup[3].action).size, 100u);
  EXPECT_EQ(std::get<CopyStep>(c.setup[4].action).to, "b.qcow2");
  EXPECT_EQ(std::get<WriteFileStep>(c.setup[5].action).bytes, std::string("\0\xff", 2));
  EXPECT_EQ(std::get<MkdirStep>(c.setup[6].action).dir, "sub");
  EXPECT_EQ(c.setup[7].attempts, 3u);

  ASSERT_EQ(c.operations.size(), 2u);
  EXPECT_FALSE(c.operations[0].writes);
  EXPECT_TRUE(c.operations[1].writes);
  EXPECT_EQ(c.compare,
            (std::vector<Field>{Field::exit_status, Field::stdout_text, Field::stderr_text, Field::files}));
}

TEST(CaseParse, DefaultsApplyWhenKeysAreAbsent) {
  Case c = parse_case(minimal_with(""));
  EXPECT_TRUE(c.profiles.empty());
  EXPECT_TRUE(c.applies_to("7.2"));
  EXPECT_TRUE(c.applies_to("10.0"));
  EXPECT_TRUE(c.env.empty());
  EXPECT_TRUE(c.setup.empty());
  EXPECT_FALSE(c.operations[0].writes);
  EXPECT_EQ(c.compare, (std::vector<Field>{Field::exit_status, Field::stdout_text, Field::stderr_text}));
}

TEST(CaseParse, ProfilesRestrictWhereACaseApplies) {
  Case c = parse_case(minimal_with(R"("profiles": ["10.0"])"));
  EXPECT_FALSE(c.applies_to("7.2"));
  EXPECT_TRUE(c.applies_to("10.0"));
}

TEST(CaseSerialise, RoundTripsThroughParse) {
  Case c = parse_case(kFullCase);
  std::string text = serialise_case(c);
  EXPECT_EQ(serialise_case(parse_case(text)), text);
}

TEST(CaseSerialise, PutsEachStepAndOperationOnItsOwnLine) {
  Case c = parse_case(R"({"name": "n", "description": "d",
      "setup": [{"write_file": {"file": "a", "hex": "00FF"}}, {"run": ["qemu-img", "create", "a", "1M"], "may_fail": true}],
      "operations": [{"args": ["info", "a"]}]})");
  EXPECT_EQ(serialise_case(c), R"({
  "name": "n",
  "description": "d",
  "setup": [
    {"write_file": {"file": "a", "hex": "00ff"}},
    {"run": ["qemu-img", "create", "a", "1M"], "may_fail": true}
  ],
  "operations": [
    {"args": ["info", "a"]}
  ],
  "compare": ["exit", "stdout", "stderr"]
}
)");
}

TEST(CaseParse, RejectsMalformedJson) {
  EXPECT_NE(parse_error("{"), "");
  EXPECT_NE(parse_error("{\"name\": \"c\",}").find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error("[]").find("expected an object"), std::string::npos);
}

TEST(CaseParse, RequiresNameDescriptionAndOperations) {
  EXPECT_NE(
      parse_error(R"({"description": "d", "operations": [{"args": ["info"]}]})").find("missing key \"name\""),
      std::string::npos);
  EXPECT_NE(parse_error(R"({"name": "c", "operations": [{"args": ["info"]}]})").find("description"),
            std::string::npos);
  EXPECT_NE(
      parse_error(R"({"name": "c", "description": "", "operations": [{"args": ["info"]}]})").find("empty"),
      std::string::npos);
  EXPECT_NE(parse_error(R"({"name": "c", "description": "d"})").find("operations"), std::string::npos);
  EXPECT_NE(parse_error(R"({"name": "c", "description": "d", "operations": []})").find("non-empty"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"name": "c", "description": "d", "operations": [{"args": []}]})")
                .find("operations[0].args"),
            std::string::npos);
}

TEST(CaseParse, RejectsNamesThatAreNotKebabCase) {
  EXPECT_NE(parse_error(R"({"name": "Qcow2_Thing", "description": "d", "operations": [{"args": ["info"]}]})")
                .find("kebab-case"),
            std::string::npos);
}

TEST(CaseParse, RejectsUnknownKeys) {
  EXPECT_NE(parse_error(minimal_with(R"("comment": "x")")).find("unknown key \"comment\""),
            std::string::npos);
  EXPECT_NE(
      parse_error(R"({"name": "c", "description": "d", "operations": [{"args": ["info"], "stdin": ""}]})")
          .find("operations[0]: unknown key \"stdin\""),
      std::string::npos);
  EXPECT_NE(parse_error(setup_with(R"({"patch": {"file": "a", "offset": 0, "hex": "00", "mode": 1}})"))
                .find("setup[0].patch: unknown key \"mode\""),
            std::string::npos);
}

TEST(CaseParse, RejectsUnknownSetupStep) {
  std::string e = parse_error(setup_with(R"({"shell": "rm -rf /"})"));
  EXPECT_NE(e.find("setup[0]: unknown setup step \"shell\""), std::string::npos) << e;
}

TEST(CaseParse, RejectsAStepThatDoesTwoThingsOrNothing) {
  EXPECT_NE(
      parse_error(setup_with(R"({"mkdir": "a", "truncate": {"file": "b", "size": 1}})")).find("exactly one"),
      std::string::npos);
  EXPECT_NE(parse_error(setup_with(R"({"may_fail": true})")).find("needs one of"), std::string::npos);
}

TEST(CaseParse, RefusesToRunAnythingButQemuImgAndQemuIo) {
  std::string e = parse_error(setup_with(R"({"run": ["sh", "-c", "true"]})"));
  EXPECT_NE(e.find("setup[0].run[0]: \"sh\" may not be run"), std::string::npos) << e;
  EXPECT_NE(parse_error(setup_with(R"({"run": ["/usr/bin/qemu-img", "create"]})")), "");
  EXPECT_NE(parse_error(setup_with(R"({"run": []})")).find("needs a program"), std::string::npos);
  EXPECT_EQ(parse_error(setup_with(R"({"run": ["qemu-io", "-c", "read 0 1", "a"]})")), "");
}

TEST(CaseParse, InspectionsRunOnlyReadOnlyQemuImgSubcommands) {
  auto with_inspect = [](const std::string& inspect) {
    return R"({"name": "x", "description": "d", "operations": [{"args": ["convert", "a", "b"], "writes": true, "inspect": )" +
           inspect + "}]}";
  };
  Case c = parse_case(with_inspect(R"([["map", "--output=json", "-f", "raw", "b"], ["compare", "a", "b"]])"));
  ASSERT_EQ(c.operations[0].inspect.size(), 2u);
  EXPECT_EQ(c.operations[0].inspect[0], (std::vector<std::string>{"map", "--output=json", "-f", "raw", "b"}));
  EXPECT_NE(serialise_case(c).find(
                R"("inspect": [["map", "--output=json", "-f", "raw", "b"], ["compare", "a", "b"]])"),
            std::string::npos)
      << serialise_case(c);
  EXPECT_EQ(serialise_case(parse_case(serialise_case(c))), serialise_case(c));
  std::string e = parse_error(with_inspect(R"([["check", "-r", "all", "b"]])"));
  EXPECT_NE(e.find("operations[0].inspect[0][1]: \"-r\" may not inspect; an inspection never repairs"),
            std::string::npos)
      << e;
  e = parse_error(with_inspect(R"([["check", "--repair=leaks", "b"]])"));
  EXPECT_NE(e.find("operations[0].inspect[0][1]: \"--repair=leaks\" may not inspect"), std::string::npos)
      << e;
  e = parse_error(with_inspect(R"([["amend", "-o", "compat=0.10", "b"]])"));
  EXPECT_NE(e.find("operations[0].inspect[0][0]: \"amend\" may not inspect"), std::string::npos) << e;
  e = parse_error(with_inspect(R"([["check", "-qrall", "b"]])"));
  EXPECT_NE(e.find("operations[0].inspect[0][1]: \"-qrall\" may not inspect"), std::string::npos) << e;
  EXPECT_EQ(parse_case(with_inspect(R"([["check", "--output=json", "-f", "qcow2", "b"]])"))
                .operations[0]
                .inspect.size(),
            1u);
  EXPECT_NE(parse_error(with_inspect("[]")).find("operations[0].inspect: expected a non-empty array"),
            std::string::npos);
  EXPECT_NE(parse_error(with_inspect("[[]]")).find("needs a qemu-img subcommand"), std::string::npos);
  EXPECT_NE(parse_error(with_inspect(R"(["map"])")).find("expected an array of strings"), std::string::npos);
}

TEST(CaseParse, RefusesPathsThatLeaveTheCaseDirectory) {
  const char* steps[] = {
      R"({"patch": {"file": "/etc/passwd", "offset": 0, "hex": "00"}})",
      R"({"patch": {"file": "../img", "offset": 0, "hex": "00"}})",
      R"({"truncate": {"file": "a/../../b", "size": 0}})",
      R"({"copy": {"from": "a", "to": "/tmp/b"}})",
      R"({"copy": {"from": "..", "to": "b"}})",
      R"({"write_file": {"file": "sub/..", "hex": ""}})",
      R"({"write_file": {"file": "", "hex": ""}})",
      R"({"mkdir": "/x"})",
      R"({"mkdir": "."})",
  };
  for (const char* step : steps) {
    std::string e = parse_error(setup_with(step));
    EXPECT_NE(e, "") << step;
    EXPECT_NE(e.find("path"), std::string::npos) << e;
  }
  EXPECT_EQ(parse_error(setup_with(R"({"copy": {"from": "a", "to": "sub/./b..c"}})")), "");
}

TEST(CaseParse, RejectsBadHexAndSizes) {
  EXPECT_NE(parse_error(setup_with(R"({"patch": {"file": "a", "offset": 0, "hex": "0"}})")).find("hex"),
            std::string::npos);
  EXPECT_NE(parse_error(setup_with(R"({"patch": {"file": "a", "offset": 0, "hex": "zz"}})")).find("hex"),
            std::string::npos);
  EXPECT_NE(
      parse_error(setup_with(R"({"patch": {"file": "a", "offset": 0, "hex": ""}})")).find("at least one"),
      std::string::npos);
  EXPECT_NE(
      parse_error(setup_with(R"({"patch": {"file": "a", "offset": -1, "hex": "00"}})")).find("non-negative"),
      std::string::npos);
  EXPECT_NE(parse_error(setup_with(R"({"truncate": {"file": "a", "size": "1M"}})")).find("non-negative"),
            std::string::npos);
  EXPECT_NE(parse_error(setup_with(R"({"truncate": {"file": "a", "size": 18446744073709551615}})"))
                .find("too large"),
            std::string::npos);
}

TEST(CaseParse, AttemptsAreForRunStepsOnly) {
  EXPECT_NE(parse_error(setup_with(R"({"mkdir": "a", "attempts": 2})")).find("only a run step"),
            std::string::npos);
  EXPECT_NE(parse_error(setup_with(R"({"run": ["qemu-img"], "attempts": 0})")).find("expected 1 to"),
            std::string::npos);
}

TEST(CaseParse, RejectsUnknownProfilesFieldsAndRunnerVariables) {
  EXPECT_NE(parse_error(minimal_with(R"("profiles": ["9.0"])")).find("unknown profile \"9.0\""),
            std::string::npos);
  EXPECT_NE(parse_error(minimal_with(R"("profiles": [])")).find("at least one"), std::string::npos);
  EXPECT_NE(parse_error(minimal_with(R"("compare": ["exit", "stdin"])")).find("unknown field \"stdin\""),
            std::string::npos);
  EXPECT_NE(parse_error(minimal_with(R"("compare": ["exit", "exit"])")).find("twice"), std::string::npos);
  EXPECT_NE(parse_error(minimal_with(R"("env": {"PATH": "/tmp"})")).find("set by the runner"),
            std::string::npos);
  EXPECT_NE(parse_error(minimal_with(R"("env": {"INSTAR_QEMU_VERSION": "7.2"})")).find("set by the runner"),
            std::string::npos);
  EXPECT_NE(parse_error(minimal_with(R"("env": {"A B": "x"})")).find("not a variable name"),
            std::string::npos);
  EXPECT_NE(parse_error(minimal_with(R"("env": {"TZ": 0})")).find("env.TZ"), std::string::npos);
}

TEST(CaseLoad, NamesTheFileInErrors) {
  try {
    (void)load_case("/nonexistent/case.json");
    FAIL() << "expected CaseError";
  } catch (const CaseError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/case.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace instar::diff
