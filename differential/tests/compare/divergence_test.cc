// divergence_test.cc: judgements after normalisation, JSON field naming, and signature stability.
#include "differential/compare/divergence.h"

#include <gtest/gtest.h>

#include "differential/compare/json_diff.h"

namespace instar::diff {
namespace {

OperationRun runs(int ref_code, std::string ref_out, std::string ref_err, int sub_code, std::string sub_out,
                  std::string sub_err) {
  OperationRun r;
  for (auto* side : {&r.reference, &r.subject}) side->process.ending = ProcessResult::Ending::exited;
  r.reference.process.code = ref_code;
  r.reference.process.out = std::move(ref_out);
  r.reference.process.err = std::move(ref_err);
  r.subject.process.code = sub_code;
  r.subject.process.out = std::move(sub_out);
  r.subject.process.err = std::move(sub_err);
  return r;
}

const std::vector<Field> kFields = {Field::exit_status, Field::stdout_text, Field::stderr_text};

Operation info(std::vector<std::string> args) { return Operation{args, false, {}}; }

TEST(Judge, NormalisedDifferencesMatch) {
  auto j = judge(info({"info", "a.qcow2"}), kFields,
                 runs(0, "disk size: 4 KiB\n", "", 0, "disk size: 8 KiB\n", ""), Normaliser::standard());
  EXPECT_EQ(j.outcome, Outcome::match);
}

TEST(Judge, ATimeoutIsInconclusive) {
  auto r = runs(0, "", "", 0, "", "");
  r.subject.process.ending = ProcessResult::Ending::timed_out;
  EXPECT_EQ(judge(info({"info", "a.qcow2"}), kFields, r, Normaliser::standard()).outcome,
            Outcome::inconclusive);
}

TEST(Judge, JsonDifferencesNameTheField) {
  auto j = judge(
      info({"info", "--output=json", "a.qcow2"}), kFields,
      runs(0, "{\"a\": {\"compat\": \"1.1\"}, \"b\": 1}\n", "", 0, "{\"a\": {\"compat\": \"0.10\"}}\n", ""),
      Normaliser::standard());
  ASSERT_EQ(j.outcome, Outcome::diverges);
  EXPECT_EQ(j.signature, "info qcow2 stdout :: stdout /a/compat value differs | stdout /b only in reference");
}

TEST(Judge, SignatureIsStableAcrossNamesAndNumbers) {
  auto a = judge(info({"info", "img.qcow2"}), kFields,
                 runs(1, "", "qemu-img: Could not open 'img.qcow2': L1 table is too small\n", 1, "",
                      "qemu-img: Could not open 'img.qcow2': Unsupported encryption method 7\n"),
                 Normaliser::standard());
  auto b = judge(info({"info", "-U", "base1.qcow2"}), kFields,
                 runs(1, "", "qemu-img: Could not open 'base1.qcow2': L1 table is too small\n", 1, "",
                      "qemu-img: Could not open 'base1.qcow2': Unsupported encryption method 24629\n"),
                 Normaliser::standard());
  ASSERT_EQ(a.outcome, Outcome::diverges);
  EXPECT_EQ(a.signature, b.signature);
  EXPECT_EQ(a.signature_id, b.signature_id);
  EXPECT_EQ(a.signature_id, signature_id(a.signature));
  EXPECT_EQ(signature_id("x"), "af63f54c86021707");  // FNV-1a is fixed: ids in old reports stay valid
}

TEST(Judge, ExitStatusAndCrashAreKinds) {
  auto j = judge(info({"info", "a.raw"}), kFields, runs(0, "", "", 1, "", ""), Normaliser::standard());
  EXPECT_EQ(j.signature, "info raw exit :: exit 0 -> 1");
  auto r = runs(0, "", "", 0, "", "");
  r.subject.process.ending = ProcessResult::Ending::signalled;
  r.subject.process.code = 11;
  EXPECT_EQ(judge(info({"info", "a.raw"}), kFields, r, Normaliser::standard()).kinds,
            std::vector<std::string>{"crash"});
}

TEST(JsonDiff, KeyOrderAndArraysAreReported) {
  std::vector<JsonFieldDifference> d;
  ASSERT_TRUE(json_differences(R"({"a": 1, "b": [1, 2]})", R"({"b": [1], "a": 1})", d));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].path, "/b/1");
  EXPECT_EQ(d[1].what, "key order differs");
  EXPECT_FALSE(json_differences("not json", "{}", d));
}

TEST(MaskLine, HidesNumbersAndQuotedNames) {
  EXPECT_EQ(mask_line("Could not open 'x.qcow2': 12 bytes, v1.5"), "Could not open '…': N bytes, vN");
}

}  // namespace
}  // namespace instar::diff
