// sha256_test.cc: the FIPS 180-4 example digests, fed whole and in uneven pieces.
#include "differential/common/sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace instar::diff {
namespace {

std::string digest(const std::string& bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

TEST(Sha256, MatchesTheStandardExamples) {
  EXPECT_EQ(digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(digest(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PiecesDigestLikeTheWhole) {
  std::string bytes;
  for (int i = 0; i < 1000; i++) bytes += static_cast<char>(i * 7);
  Sha256 h;
  for (size_t at = 0, step = 1; at < bytes.size(); at += step, step = step % 70 + 13)
    h.update(bytes.data() + at, std::min(step, bytes.size() - at));
  EXPECT_EQ(h.hex_digest(), digest(bytes));
}

}  // namespace
}  // namespace instar::diff
