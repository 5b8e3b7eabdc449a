#include "core/qcow2/bitmap_store_plan.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/qcow2/bitmap_directory.h"

// Layouts measured with qemu-img 7.2 and 10.0 (the same bytes; corpora/cases/check/repair-bitmaps*.json):
// 64M images of 64 KiB clusters, 16-bit refcounts, header, refcount table, block, L1, L2 and two data
// clusters in clusters 0..6.

namespace instar::qcow2 {
namespace {

struct Fixture {
  std::vector<uint16_t> refcounts;
  std::vector<uint8_t> names = {'b', '0', 'b', 'e', 'e', '1', 'b', '2'};
  std::vector<StoredBitmap> bitmaps;
  std::vector<std::vector<uint64_t>> data;
  std::vector<uint8_t> scratch = std::vector<uint8_t>(1 << 16);
  Arena arena{scratch.data(), scratch.size()};
  BitmapStoreLayout layout;

  Fixture(std::vector<uint16_t> counts, uint64_t dir_offset, uint64_t file_size)
      : refcounts(std::move(counts)) {
    layout.cluster_bits = 16;
    layout.disk_size = 64 << 20;
    layout.file_size = file_size;
    layout.directory_offset = dir_offset;
    data.reserve(8);
  }
  void add(size_t name_at, size_t name_size, uint32_t flags, uint8_t granularity, uint64_t table,
           uint64_t entry) {
    data.push_back({entry});
    StoredBitmap b;
    b.name = ByteSpan(names.data() + name_at, name_size);
    b.flags = flags;
    b.granularity_bits = granularity;
    b.table_offset = table;
    b.table_size = 1;
    b.data = data.back().data();
    b.old_entries = data.back().data();
    bitmaps.push_back(b);
    layout.directory_size += (24 + name_size + 7) & ~size_t{7};
  }
  Result<BitmapStorePlan> plan() {
    layout.refcounts.narrow = refcounts.data();
    layout.refcounts.count = refcounts.size();
    layout.bitmaps = bitmaps.data();
    layout.bitmap_count = bitmaps.size();
    return plan_bitmap_store(layout, arena);
  }
};

uint64_t entry_at(const BitmapWrite& w, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++) v = (v << 8) | w.bytes[at + i];
  return v;
}

TEST(BitmapStorePlan, StoresAnEmptyBitmapPastTheEndAndFreesTheOldClusters) {
  // bitmap --add b0: table at 0x70000, directory at 0x80000 (32 bytes), file 0x80020.
  Fixture f({1, 1, 1, 1, 1, 1, 1, 1, 1}, 0x80000, 0x80020);
  f.add(0, 2, kQcow2BitmapAuto, 16, 0x70000, 0);
  auto planned = f.plan();
  ASSERT_TRUE(planned.is_ok()) << planned.error().message;
  const BitmapStorePlan& p = planned.value();
  ASSERT_TRUE(p.stores);
  ASSERT_EQ(p.write_count, 3u);
  EXPECT_EQ(p.writes[0].offset, 0x80000u);
  EXPECT_EQ(p.writes[0].bytes[15], 3);  // in use while open
  EXPECT_EQ(p.writes[1].offset, 0x90000u);
  EXPECT_EQ(p.writes[1].length, 8u);
  EXPECT_EQ(entry_at(p.writes[1], 0), 0u);
  EXPECT_EQ(p.writes[2].offset, 0xa0000u);
  EXPECT_EQ(entry_at(p.writes[2], 0), 0x90000u);
  EXPECT_EQ(p.writes[2].bytes[15], 2);
  EXPECT_EQ(p.new_directory_offset, 0xa0000u);
  EXPECT_EQ(p.file_size, 0xa0020u);
  ASSERT_EQ(p.refcount_count, 4u);
  EXPECT_EQ(p.refcounts[0].cluster, 7u);
  EXPECT_EQ(p.refcounts[0].refcount, 0u);
  EXPECT_EQ(p.refcounts[1].cluster, 8u);
  EXPECT_EQ(p.refcounts[2].cluster, 9u);
  EXPECT_EQ(p.refcounts[2].refcount, 1u);
  EXPECT_EQ(p.refcounts[3].cluster, 10u);
}

TEST(BitmapStorePlan, AllocatesDataThenTableInDirectoryOrderAndKeepsABitmapInUse) {
  // Three bitmaps: b0 data 0xc0000 table 0xd0000, bee1 data 0xe0000 table 0xf0000, b2 data 0x130000
  // table 0x140000, directory 0x150000; clusters 7 and 8 hold guest data, 9..0xb and 0x10..0x12 are free.
  std::vector<uint16_t> counts(0x16, 0);
  for (uint64_t c : {0, 1, 2, 3, 4, 5, 6, 7, 8, 0xc, 0xd, 0xe, 0xf, 0x13, 0x14, 0x15}) counts[c] = 1;
  Fixture f(counts, 0x150000, 0x150060);
  f.add(0, 2, kQcow2BitmapAuto, 16, 0xd0000, 0xc0000);
  f.add(2, 4, kQcow2BitmapAuto | kQcow2BitmapInUse, 16, 0xf0000, 0xe0000);
  f.add(6, 2, kQcow2BitmapAuto, 9, 0x140000, 0x130000);
  auto planned = f.plan();
  ASSERT_TRUE(planned.is_ok()) << planned.error().message;
  const BitmapStorePlan& p = planned.value();
  ASSERT_EQ(p.write_count, 6u);
  EXPECT_EQ(p.writes[1].offset, 0x90000u);  // b0's data, copied
  EXPECT_EQ(p.writes[1].from, 0xc0000u);
  EXPECT_EQ(p.writes[2].offset, 0xa0000u);   // b0's table
  EXPECT_EQ(p.writes[3].offset, 0xb0000u);   // b2's data
  EXPECT_EQ(p.writes[4].offset, 0x100000u);  // b2's table: 0xc..0xf are still in use
  EXPECT_EQ(p.new_directory_offset, 0x110000u);
  EXPECT_EQ(p.file_size, 0x150060u);
  const BitmapWrite& dir = p.writes[5];
  EXPECT_EQ(entry_at(dir, 32), 0xf0000u);  // bee1 kept as it was
  EXPECT_EQ(dir.bytes[32 + 15], 3);
  EXPECT_EQ(entry_at(dir, 64), 0x100000u);
}

TEST(BitmapStorePlan, StoresNothingWhenEveryBitmapIsInUse) {
  Fixture f({1, 1, 1, 1, 1, 1, 1, 1, 1}, 0x80000, 0x80020);
  f.add(0, 2, kQcow2BitmapAuto | kQcow2BitmapInUse, 16, 0x70000, 0);
  auto planned = f.plan();
  ASSERT_TRUE(planned.is_ok());
  EXPECT_FALSE(planned.value().stores);
  EXPECT_EQ(planned.value().write_count, 0u);
}

TEST(BitmapStorePlan, RefusesAClusterFreedWhoseRefcountIsNotOne) {
  Fixture f({1, 1, 1, 1, 1, 1, 1, 2, 1}, 0x80000, 0x80020);
  f.add(0, 2, kQcow2BitmapAuto, 16, 0x70000, 0);
  EXPECT_TRUE(f.plan().is_error());
}

TEST(BitmapStorePlan, RefusesATableSizeQemuWouldComputeDifferently) {
  Fixture f({1, 1, 1, 1, 1, 1, 1, 1, 1}, 0x80000, 0x80020);
  f.add(0, 2, kQcow2BitmapAuto, 9, 0x70000, 0);  // 2^17 bits of 512 bytes: 1 cluster, but 64M/512...
  f.layout.disk_size = uint64_t{1} << 40;        // ... of a 1 TiB disk need 32 clusters
  EXPECT_TRUE(f.plan().is_error());
}

TEST(BitmapStorePlan, RefusesADirectoryOfAnotherSize) {
  Fixture f({1, 1, 1, 1, 1, 1, 1, 1, 1}, 0x80000, 0x80020);
  f.add(0, 2, kQcow2BitmapAuto, 16, 0x70000, 0);
  f.layout.directory_size += 8;
  EXPECT_TRUE(f.plan().is_error());
}

}  // namespace
}  // namespace instar::qcow2
