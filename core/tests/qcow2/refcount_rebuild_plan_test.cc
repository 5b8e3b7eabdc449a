#include "core/qcow2/refcount_rebuild_plan.h"

#include <gtest/gtest.h>

#include <vector>

// Layouts measured with qemu-img 7.2 and 10.0 (`check -r all`, identical files): `create -f qcow2
// img 64M` + a 128 KiB write is header, refcount table (0x10000), refcount block (0x20000), L1
// (0x30000), L2 (0x40000), data (0x50000, 0x60000); 16-bit refcounts, 64 KiB clusters.

namespace instar::qcow2 {
namespace {

struct Fixture {
  std::vector<uint8_t> memory = std::vector<uint8_t>(1 << 20);
  Arena arena{memory.data(), memory.size()};
  std::vector<uint8_t> old_table = std::vector<uint8_t>(65536, 0);
  std::vector<uint16_t> counts;
  RebuildLayout layout;

  explicit Fixture(std::vector<uint16_t> c, uint64_t file_size) : counts(std::move(c)) {
    old_table[5] = 0x02;  // entry 0: 0x20000
    layout.cluster_bits = 16;
    layout.refcount_order = 4;
    layout.file_size = file_size;
    layout.old_table = ByteSpan(old_table.data(), old_table.size());
  }
  ClusterCounts view(const std::vector<uint16_t>& v) const {
    ClusterCounts c;
    c.narrow = v.data();
    c.count = v.size();
    return c;
  }
  Result<RebuildPlan> plan() { return plan_refcount_rebuild(layout, view(counts), arena); }
};

TEST(RefcountRebuildPlan, PutsTheBlockAndTableAtTheEndOfAFullFile) {
  // Cluster 5's stored refcount was 0: qemu writes a block at 0x70000, the table at 0x80000.
  Fixture f({1, 1, 1, 1, 1, 1, 1}, 0x70000);
  auto plan = f.plan();
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  RebuildPlan& p = plan.value();
  ASSERT_EQ(p.block_count, 1u);
  EXPECT_EQ(p.blocks[0].index, 0u);
  EXPECT_EQ(p.blocks[0].offset, 0x70000u);
  EXPECT_EQ(p.table_offset, 0x80000u);
  EXPECT_EQ(p.table_clusters, 1u);
  EXPECT_EQ(p.table_entries, 8192u);
  EXPECT_EQ(p.file_size, 0x90000u);
  ASSERT_EQ(p.allocated_count, 2u);

  // The recount no longer sees the old table and block, and sees the new ones once.
  std::vector<uint16_t> recount = {1, 0, 0, 1, 1, 1, 1, 1, 1};
  ASSERT_TRUE(finish_refcount_rebuild(p, f.view(f.counts), f.view(recount), f.arena).is_ok());
  ASSERT_EQ(p.lowered_count, 2u);
  EXPECT_EQ(p.lowered[0].cluster, 1u);
  EXPECT_EQ(p.lowered[0].refcount, 1u);
  ASSERT_EQ(p.discard_count, 1u);
  EXPECT_EQ(p.discards[0].offset, 0x10000u);
  EXPECT_EQ(p.discards[0].length, 0x20000u);

  std::vector<uint8_t> block(65536);
  encode_rebuild_block(p, p.blocks[0], block.data());
  const uint8_t expected[] = {0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0};
  for (size_t i = 0; i < sizeof expected; i++) EXPECT_EQ(block[i], expected[i]) << i;
  std::vector<uint8_t> table(65536);
  encode_rebuild_table(p, 0, table.data());
  EXPECT_EQ(table[5], 0x07);
  EXPECT_EQ(table[8], 0);
  uint8_t fields[12];
  encode_rebuild_header_fields(p, fields);
  const uint8_t header[] = {0, 0, 0, 0, 0, 0x08, 0, 0, 0, 0, 0, 1};
  for (int i = 0; i < 12; i++) EXPECT_EQ(fields[i], header[i]) << i;
}

TEST(RefcountRebuildPlan, FillsAFreeClusterFirst) {
  // Measured: cluster 6 freed by a discard takes the block, the table goes to the end.
  Fixture f({1, 1, 1, 1, 1, 1, 0, 1}, 0x80000);
  auto plan = f.plan();
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  EXPECT_EQ(plan.value().blocks[0].offset, 0x60000u);
  EXPECT_EQ(plan.value().table_offset, 0x80000u);
  EXPECT_EQ(plan.value().file_size, 0x90000u);
}

TEST(RefcountRebuildPlan, SaysWhenQemusFirstWriteOverlapsAnOldEntry) {
  // qemu's overlap check fails the rebuild at its first write (the block at 0x60000): nothing written.
  Fixture f({1, 1, 1, 1, 1, 1, 0, 1}, 0x80000);
  f.old_table[13] = 0x06;  // entry 1: 0x60000
  auto plan = f.plan();
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  EXPECT_TRUE(plan.value().first_write_overlaps);
}

TEST(RefcountRebuildPlan, RefusesALaterWriteWhereABrokenOldEntryPoints) {
  // The table (0x80000) is written after the block: qemu would fail midway, which is refused.
  Fixture f({1, 1, 1, 1, 1, 1, 0, 1}, 0x80000);
  f.old_table[13] = 0x08;  // entry 1: 0x80000
  EXPECT_TRUE(f.plan().is_error());
}

TEST(RefcountRebuildPlan, RefusesARecountAboveTheNewCounts) {
  Fixture f({1, 1, 1, 1, 1, 1, 1}, 0x70000);
  auto plan = f.plan();
  ASSERT_TRUE(plan.is_ok());
  std::vector<uint16_t> recount = {1, 0, 0, 1, 1, 2, 1, 1, 1};
  EXPECT_TRUE(finish_refcount_rebuild(plan.value(), f.view(f.counts), f.view(recount), f.arena).is_error());
}

TEST(RefcountRebuildPlan, RefusesANewStructureTheRecountDoesNotSee) {
  Fixture f({1, 1, 1, 1, 1, 1, 1}, 0x70000);
  auto plan = f.plan();
  ASSERT_TRUE(plan.is_ok());
  std::vector<uint16_t> recount = {1, 0, 0, 1, 1, 1, 1, 1, 0};
  EXPECT_TRUE(finish_refcount_rebuild(plan.value(), f.view(f.counts), f.view(recount), f.arena).is_error());
}

TEST(RefcountRebuildPlan, GrowsTheTableAndCoversEveryCount) {
  // 512-byte clusters, 64-bit refcounts: 64 entries a block and 64 entries a table cluster.
  std::vector<uint16_t> counts(64 * 70, 1);
  Fixture f(counts, 64 * 70 * 512);
  f.layout.cluster_bits = 9;
  f.layout.refcount_order = 4;
  f.layout.old_table = ByteSpan();
  auto plan = f.plan();
  ASSERT_TRUE(plan.is_ok()) << plan.error().message;
  const RebuildPlan& p = plan.value();
  EXPECT_EQ(p.table_entries % 64, 0u);
  EXPECT_GE(p.table_entries * 256, p.cluster_count);
  for (size_t i = 1; i < p.block_count; i++) EXPECT_LT(p.blocks[i - 1].index, p.blocks[i].index);
  for (size_t i = 0; i < p.allocated_count; i++) EXPECT_EQ(p.count_at(p.allocated[i]), 1u);
  EXPECT_EQ(p.file_size, p.cluster_count * 512);
}

}  // namespace
}  // namespace instar::qcow2
