#include "core/base/table.h"

#include <gtest/gtest.h>

namespace instar {
namespace {

Result<void> validate(uint64_t offset, uint64_t entries) {
  return validate_table(offset, entries, 8, 32 << 20, 65536, "L1 table too large", "L1 table offset invalid");
}

TEST(ValidateTable, AcceptsAlignedTableWithinLimit) { EXPECT_TRUE(validate(65536, 1024).is_ok()); }

TEST(ValidateTable, RejectsTooManyEntriesByDivision) {
  auto r = validate(65536, UINT64_MAX / 4);  // entries * 8 would wrap
  ASSERT_TRUE(r.is_error());
  EXPECT_STREQ(r.error().message, "L1 table too large");
}

TEST(ValidateTable, RejectsUnalignedOffset) {
  auto r = validate(65536 + 512, 1);
  ASSERT_TRUE(r.is_error());
  EXPECT_STREQ(r.error().message, "L1 table offset invalid");
}

TEST(ValidateTable, RejectsEndBeyondInt64Max) {
  EXPECT_TRUE(validate(0x7fffffffffff0000ull, 8192).is_error());
  EXPECT_TRUE(validate(0x7fffffffffff0000ull, 8191).is_ok());
}

}  // namespace
}  // namespace instar
