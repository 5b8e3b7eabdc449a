#include "core/qcow2/refcount_repair_plan.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/qcow2/refcount_table.h"

// The layout of `qemu-img create -f qcow2 img 64M` + one 128 KiB write (both versions): refcount table
// at 0x10000, its one block at 0x20000, L1 at 0x30000; 16-bit refcounts, 64 KiB clusters.

namespace instar::qcow2 {
namespace {

struct Fixture {
  std::vector<uint8_t> table = std::vector<uint8_t>(65536, 0);
  ProtectedRange ranges[3] = {{0, 65536}, {0x10000, 65536}, {0x30000, 8}};
  std::vector<uint8_t> scratch = std::vector<uint8_t>(1 << 16);
  Arena arena{scratch.data(), scratch.size()};
  RepairLayout layout;

  explicit Fixture(uint64_t block = 0x20000, uint32_t order = 4, uint64_t file_size = 524288) {
    for (int i = 0; i < 8; i++) table[i] = static_cast<uint8_t>(block >> (56 - 8 * i));
    layout.cluster_bits = 16;
    layout.refcount_order = order;
    layout.file_size = file_size;
    layout.refcount_table = ByteSpan(table.data(), table.size());
    layout.protected_ranges = ranges;
    layout.protected_count = 3;
  }
  Result<RepairPlan> plan(std::vector<RefcountFix> fixes) {
    return plan_refcount_repair(layout, fixes.data(), fixes.size(), arena);
  }
};

TEST(RefcountRepairPlan, LowersALeakInPlaceAndDiscardsAFreedCluster) {
  Fixture f;
  auto plan = f.plan({{5, 1}, {7, 0}});
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  ASSERT_EQ(plan.value().write_count, 2u);
  EXPECT_EQ(plan.value().writes[0].offset, 0x2000au);
  EXPECT_EQ(plan.value().writes[0].length, 2);
  EXPECT_EQ(plan.value().writes[1].offset, 0x2000eu);
  ASSERT_EQ(plan.value().discard_count, 1u);
  EXPECT_EQ(plan.value().discards[0].offset, 0x70000u);
  EXPECT_EQ(plan.value().discards[0].length, 0x10000u);
  uint8_t bytes[2] = {0x00, 0x03};
  apply_refcount_write(plan.value().writes[0], bytes);
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[1], 1);
}

TEST(RefcountRepairPlan, ClipsTheDiscardOfAPartialLastCluster) {
  Fixture f(0x20000, 4, 0x70000 + 4096);
  auto plan = f.plan({{7, 0}});
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  ASSERT_EQ(plan.value().discard_count, 1u);
  EXPECT_EQ(plan.value().discards[0].length, 4096u);
}

TEST(RefcountRepairPlan, SubByteWidthsChangeOnlyTheirBits) {
  Fixture f(0x20000, 1);  // 2-bit refcounts: four to a byte
  auto plan = f.plan({{6, 2}});
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  const RefcountWrite& w = plan.value().writes[0];
  EXPECT_EQ(w.offset, 0x20001u);
  EXPECT_EQ(w.length, 1);
  uint8_t block[2] = {0xff, 0xff};
  apply_refcount_write(w, block + 1);
  EXPECT_EQ(refcount_block_entry(ByteSpan(block, 2), 1, 6), 2u);
  for (uint64_t i : {0, 1, 2, 3, 4, 5, 7}) EXPECT_EQ(refcount_block_entry(ByteSpan(block, 2), 1, i), 3u) << i;
}

TEST(RefcountRepairPlan, RefusesWhatCannotBeDoneInPlace) {
  EXPECT_TRUE(Fixture(0).plan({{5, 1}}).is_error());        // no refcount block
  EXPECT_TRUE(Fixture(0x20200).plan({{5, 1}}).is_error());  // unaligned block
  EXPECT_TRUE(Fixture(0x20001).plan({{5, 1}}).is_error());  // reserved bits
  EXPECT_TRUE(Fixture(0x10000).plan({{5, 1}}).is_error());  // the block is the refcount table
  EXPECT_TRUE(Fixture(0x80000).plan({{5, 1}}).is_error());  // the block lies past the end of the file
  EXPECT_TRUE(Fixture(0x20000, 4, 0x28000).plan({{1, 1}}).is_error());  // the block is cut by the end
  EXPECT_TRUE(Fixture().plan({{7, 0}, {5, 1}}).is_error());             // out of order
  EXPECT_TRUE(Fixture().plan({{5, 1}, {5, 1}}).is_error());             // twice
  EXPECT_TRUE(Fixture().plan({{5, 0x10000}}).is_error());               // wider than 16 bits
  EXPECT_TRUE(Fixture().plan({{2, 0}}).is_error());                     // frees the refcount block itself
  EXPECT_TRUE(Fixture().plan({{3, 0}}).is_error());                     // frees the L1 table's cluster
  EXPECT_TRUE(Fixture().plan({{uint64_t{1} << 15, 1}}).is_error());     // past the table
  EXPECT_TRUE(Fixture().plan({{8, 0}}).is_error());  // frees a cluster past the end of the file
}

TEST(RefcountRepairPlan, OneSpanPerBlockAndOneDiscardPerRunOfFreedClusters) {
  Fixture f(0x20000, 4, 0x100000);
  auto plan = f.plan({{5, 1}, {7, 0}, {8, 0}, {9, 0}, {12, 0}});
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  const RepairPlan& p = plan.value();
  ASSERT_EQ(p.span_count, 1u);
  EXPECT_EQ(p.spans[0].offset, 0x2000au);  // cluster 5's entry ...
  EXPECT_EQ(p.spans[0].length, 0x10u);     // ... to the end of cluster 12's
  EXPECT_EQ(p.spans[0].first_write, 0u);
  EXPECT_EQ(p.spans[0].write_count, 5u);
  ASSERT_EQ(p.discard_count, 2u);
  EXPECT_EQ(p.discards[0].offset, 0x70000u);
  EXPECT_EQ(p.discards[0].length, 0x30000u);
  EXPECT_EQ(p.discards[1].offset, 0xc0000u);
  EXPECT_EQ(p.discards[1].length, 0x10000u);
  // As read: cluster 5 has refcount 3, 7 has 1, 8 already 0 (not a real fix, but it shows that an
  // unchanged entry is not written), 9 has 1, 12 has 1.
  uint8_t bytes[16] = {0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
  SpanChange change = apply_repair_span(p, p.spans[0], bytes);
  EXPECT_EQ(change.begin, 1u);
  EXPECT_EQ(change.end, 16u);
  const uint8_t expected[16] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 16; i++) EXPECT_EQ(bytes[i], expected[i]) << i;
  uint8_t unchanged[16] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  change = apply_repair_span(p, p.spans[0], unchanged);
  EXPECT_EQ(change.begin, change.end);
}

TEST(RefcountRepairPlan, SubByteEntriesSharingAByteMakeOneSpan) {
  Fixture f(0x20000, 0);  // 1-bit refcounts: eight to a byte
  auto plan = f.plan({{4, 1}, {5, 0}, {6, 1}});
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  const RepairPlan& p = plan.value();
  ASSERT_EQ(p.span_count, 1u);
  EXPECT_EQ(p.spans[0].offset, 0x20000u);
  EXPECT_EQ(p.spans[0].length, 1u);
  uint8_t byte = 0x2f;  // bits 0-3 and 5 set
  SpanChange change = apply_repair_span(p, p.spans[0], &byte);
  EXPECT_EQ(byte, 0x5f);  // bit 5 cleared, 4 and 6 set
  EXPECT_EQ(change.begin, 0u);
  EXPECT_EQ(change.end, 1u);
}

TEST(RefcountRepairPlan, NothingToFixPlansNothing) {
  auto plan = Fixture().plan({});
  ASSERT_TRUE(plan.is_ok());
  EXPECT_EQ(plan.value().write_count, 0u);
  EXPECT_EQ(plan.value().discard_count, 0u);
  EXPECT_EQ(plan.value().span_count, 0u);
}

}  // namespace
}  // namespace instar::qcow2
