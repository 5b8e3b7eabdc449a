// normaliser_test.cc: each rule of differential/normalise/rules.json does what its reason says, and no more.
#include "differential/compare/normaliser.h"

#include <gtest/gtest.h>

#include <set>

namespace instar::diff {
namespace {

struct Example {
  std::string rule, before, after;
};

const std::vector<Example> kExamples = {
    {"scratch-directory", "qemu-img: Could not open '/tmp/instar-diff-a1B2c3/work/base.raw': x\n",
     "qemu-img: Could not open '<scratch>/base.raw': x\n"},
    {"human-disk-size", "virtual size: 1 GiB (1073741824 bytes)\ndisk size: 196 KiB\n",
     "virtual size: 1 GiB (1073741824 bytes)\ndisk size: <allocated>\n"},
    {"human-disk-size", "        disk size: 4 KiB\n", "        disk size: <allocated>\n"},
    {"json-actual-size", "    \"actual-size\": 200704,\n", "    \"actual-size\": 0,\n"},
};

TEST(Normaliser, EachRuleHasAnExampleAndDoesWhatItSays) {
  const Normaliser& n = Normaliser::standard();
  std::set<std::string> covered;
  for (const auto& e : kExamples) {
    EXPECT_EQ(n.apply(e.before), e.after) << e.rule;
    covered.insert(e.rule);
  }
  for (const auto& rule : n.rules()) {
    EXPECT_TRUE(covered.count(rule.name)) << "rule " << rule.name << " has no example in this test";
    EXPECT_FALSE(rule.reason.empty()) << rule.name;
  }
}

TEST(Normaliser, LeavesEverythingElseAlone) {
  std::string text =
      "image: img.qcow2\nfile format: qcow2\nvirtual size: 64 MiB (67108864 bytes)\n"
      "cluster_size: 65536\n{\"virtual-size\": 67108864, \"filename\": \"img.qcow2\"}\n";
  EXPECT_EQ(Normaliser::standard().apply(text), text);
}

TEST(Normaliser, RejectsABadRuleOrOneWithoutAReason) {
  EXPECT_THROW(Normaliser::from_json(
                   R"({"rules": [{"name": "x", "pattern": "(", "replacement": "", "reason": "r"}]})"),
               std::runtime_error);
  EXPECT_THROW(
      Normaliser::from_json(R"({"rules": [{"name": "x", "pattern": "a", "replacement": "", "reason": ""}]})"),
      std::runtime_error);
}

}  // namespace
}  // namespace instar::diff
