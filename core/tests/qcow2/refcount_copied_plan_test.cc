#include "core/qcow2/refcount_copied_plan.h"

#include <gtest/gtest.h>

#include <vector>

// The layout of `qemu-img create -f qcow2 img 64M` + one 128 KiB write (both versions): refcount table
// at 0x10000, its block at 0x20000, L1 at 0x30000 (one entry), L2 at 0x40000; 64 KiB clusters.

namespace instar::qcow2 {
namespace {

struct Fixture {
  std::vector<uint8_t> l1 = std::vector<uint8_t>(8, 0);
  ProtectedRange ranges[2] = {{0, 65536}, {0x10000, 65536}};
  std::vector<uint8_t> scratch = std::vector<uint8_t>(1 << 16);
  Arena arena{scratch.data(), scratch.size()};
  CopiedLayout layout;

  explicit Fixture(uint64_t l1_entry = 0x8000000000040000ull, uint64_t file_size = 0x70000) {
    set_l1(0, l1_entry);
    layout.cluster_bits = 16;
    layout.file_size = file_size;
    layout.l1_table_offset = 0x30000;
    layout.protected_ranges = ranges;
    layout.protected_count = 2;
  }
  void set_l1(size_t index, uint64_t entry) {
    if (l1.size() < (index + 1) * 8) l1.resize((index + 1) * 8);
    for (int i = 0; i < 8; i++) l1[index * 8 + i] = static_cast<uint8_t>(entry >> (56 - 8 * i));
    layout.l1_table = ByteSpan(l1.data(), l1.size());
  }
  Result<CopiedPlan> plan(std::vector<L1CopiedFix> l1_fixes, std::vector<L2CopiedFix> l2_fixes) {
    return plan_copied_repair(layout, l1_fixes.data(), l1_fixes.size(), l2_fixes.data(), l2_fixes.size(),
                              arena);
  }
};

TEST(CopiedRepairPlan, SetsAndClearsTheFlagInOneSpanPerTable) {
  Fixture f;
  auto plan = f.plan({{0, false}}, {{0, 0, true}, {0, 1, false}, {0, 5, true}});
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  const CopiedPlan& p = plan.value();
  ASSERT_EQ(p.write_count, 4u);
  EXPECT_EQ(p.writes[0].offset, 0x30000u);
  EXPECT_EQ(p.writes[1].offset, 0x40000u);
  EXPECT_EQ(p.writes[3].offset, 0x40028u);
  ASSERT_EQ(p.span_count, 2u);
  EXPECT_EQ(p.spans[0].offset, 0x30000u);
  EXPECT_EQ(p.spans[0].length, 1u);
  EXPECT_EQ(p.spans[1].offset, 0x40000u);
  EXPECT_EQ(p.spans[1].length, 0x29u);
  EXPECT_EQ(p.spans[1].write_count, 3u);
  std::vector<uint8_t> l2(0x29, 0);
  l2[0x08] = 0x80;  // entry 1 has the flag; entry 0 and 5 lack it
  SpanChange change = apply_copied_span(p, p.spans[1], l2.data());
  EXPECT_EQ(l2[0x00], 0x80);
  EXPECT_EQ(l2[0x08], 0x00);
  EXPECT_EQ(l2[0x28], 0x80);
  EXPECT_EQ(change.begin, 0u);
  EXPECT_EQ(change.end, 0x29u);
  // Applied again nothing changes, so nothing is written.
  change = apply_copied_span(p, p.spans[1], l2.data());
  EXPECT_EQ(change.begin, change.end);
}

TEST(CopiedRepairPlan, ExtendedL2EntriesAreSixteenBytes) {
  Fixture f;
  f.layout.extended_l2 = true;
  auto plan = f.plan({}, {{0, 3, true}});
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  EXPECT_EQ(plan.value().writes[0].offset, 0x40030u);
  EXPECT_TRUE(f.plan({}, {{0, 4096, true}}).is_error());  // 4096 16-byte entries per 64 KiB table
}

TEST(CopiedRepairPlan, RefusesWhatCannotBeDoneInPlace) {
  EXPECT_TRUE(Fixture().plan({{1, true}}, {}).is_error());                   // past the L1 table
  EXPECT_TRUE(Fixture().plan({}, {{1, 0, true}}).is_error());                // no such L1 entry
  EXPECT_TRUE(Fixture(0).plan({}, {{0, 0, true}}).is_error());               // no L2 table
  EXPECT_TRUE(Fixture(0x40200).plan({}, {{0, 0, true}}).is_error());         // unaligned L2 table
  EXPECT_TRUE(Fixture(0x70000).plan({}, {{0, 0, true}}).is_error());         // L2 table past the end
  EXPECT_TRUE(Fixture(0x10000).plan({}, {{0, 0, true}}).is_error());         // L2 table is the refcount table
  EXPECT_TRUE(Fixture(0x30000).plan({}, {{0, 0, true}}).is_error());         // L2 table is the L1 table
  EXPECT_TRUE(Fixture(0x40000, 0x30004).plan({{0, true}}, {}).is_error());   // L1 table cut by the end
  EXPECT_TRUE(Fixture().plan({}, {{0, 8192, true}}).is_error());             // past the L2 table
  EXPECT_TRUE(Fixture().plan({}, {{0, 2, true}, {0, 1, true}}).is_error());  // out of order
  Fixture twice;
  twice.set_l1(1, 0x40000);  // two L1 entries name the L2 table
  // qemu repairs it on its first visit and re-reads it, repaired, on the second.
  EXPECT_TRUE(twice.plan({}, {{0, 0, true}}).is_ok());
  EXPECT_TRUE(twice.plan({}, {{1, 0, true}}).is_error());                // not under the first L1 entry
  EXPECT_TRUE(twice.plan({}, {{0, 0, true}, {1, 1, true}}).is_error());  // the table listed twice
  EXPECT_TRUE(twice.plan({{1, false}}, {}).is_ok());  // an L1 fix alone is fine
}

TEST(CopiedRepairPlan, RefusesAnL2TableTheRefcountRepairWritesOrFrees) {
  RefcountWrite write;
  write.block_offset = 0x40000;
  write.offset = 0x40010;
  write.length = 2;
  RepairSpan span{0x40010, 2, 0, 1};
  RepairPlan refcounts;
  refcounts.writes = &write;
  refcounts.write_count = 1;
  refcounts.spans = &span;
  refcounts.span_count = 1;
  Fixture f;
  f.layout.refcount_plan = &refcounts;
  EXPECT_TRUE(f.plan({}, {{0, 0, true}}).is_error());
  RepairDiscard discards[2] = {{0x20000, 0x10000}, {0x40000, 0x20000}};
  RepairPlan freed;
  freed.discards = discards;
  freed.discard_count = 2;
  Fixture g;
  g.layout.refcount_plan = &freed;
  EXPECT_TRUE(g.plan({}, {{0, 0, true}}).is_error());
  discards[1] = RepairDiscard{0x50000, 0x10000};
  EXPECT_TRUE(g.plan({}, {{0, 0, true}}).is_ok());
}

TEST(CopiedRepairPlan, NothingToFixPlansNothing) {
  auto plan = Fixture().plan({}, {});
  ASSERT_TRUE(plan.is_ok());
  EXPECT_EQ(plan.value().write_count, 0u);
  EXPECT_EQ(plan.value().span_count, 0u);
}

}  // namespace
}  // namespace instar::qcow2
