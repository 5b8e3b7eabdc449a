// hex_test.cc: hex strings of case files.
#include "differential/case/hex.h"

#include <gtest/gtest.h>

namespace instar::diff {
namespace {

TEST(Hex, DecodesEitherCase) {
  EXPECT_EQ(decode_hex("00fFaB"), std::string("\x00\xff\xab", 3));
  EXPECT_EQ(decode_hex(""), std::string());
}

TEST(Hex, RejectsOddLengthAndNonDigits) {
  EXPECT_FALSE(decode_hex("0"));
  EXPECT_FALSE(decode_hex("0g"));
  EXPECT_FALSE(decode_hex("00 11"));
}

TEST(Hex, EncodesLowerCase) { EXPECT_EQ(encode_hex(std::string("\x00\xff\xab", 3)), "00ffab"); }

}  // namespace
}  // namespace instar::diff
