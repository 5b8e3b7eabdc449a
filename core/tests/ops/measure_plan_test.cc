// measure_plan_test.cc: the planner against numbers qemu-img 7.2 and 10.0 print
// (qemu-img measure --size N -O qcow2 [-o ...]; both versions agree on them).
#include "core/ops/measure_plan.h"

#include <gtest/gtest.h>

namespace instar::measure {
namespace {

Measurement qcow2(uint64_t size, uint64_t cluster_size = 65536, uint64_t refcount_bits = 16, bool extended_l2 = false,
                  Prealloc prealloc = Prealloc::off) {
  Qcow2Options o;
  o.size = size;
  o.cluster_size = cluster_size;
  o.refcount_bits = refcount_bits;
  o.extended_l2 = extended_l2;
  o.prealloc = prealloc;
  auto m = plan_qcow2(o, nullptr);
  EXPECT_TRUE(m.is_ok());
  return m.is_ok() ? m.value() : Measurement{};
}

TEST(MeasurePlan, DefaultQcow2MatchesQemu) {
  EXPECT_EQ(qcow2(1ull << 30).required, 393216u);
  EXPECT_EQ(qcow2(1ull << 30).fully_allocated, 1074135040u);
  EXPECT_EQ(qcow2(0).required, 196608u);
  EXPECT_EQ(qcow2(1).fully_allocated, 393216u);
  EXPECT_EQ(qcow2(1000000000).fully_allocated, 1000407040u);
  EXPECT_EQ(qcow2(1ull << 40).required, 168034304u);
  EXPECT_EQ(qcow2(16ull << 40).fully_allocated, 17594870988800u);
  EXPECT_EQ(qcow2(1ull << 50).required, 171825102848u);
}

TEST(MeasurePlan, OptionsMatchQemu) {
  EXPECT_EQ(qcow2(1ull << 30, 65536, 16, true).required, 524288u);
  EXPECT_EQ(qcow2(1ull << 30, 65536, 16, true).fully_allocated, 1074266112u);
  EXPECT_EQ(qcow2(1ull << 30, 8192).required, 1343488u);
  EXPECT_EQ(qcow2(1ull << 30, 65536, 16, false, Prealloc::full).required, 1074135040u);
}

TEST(MeasurePlan, RejectsWhatQemuRejects) {
  EXPECT_TRUE(check_cluster_size(1000, false).is_error());
  EXPECT_TRUE(check_cluster_size(4096, true).is_error());
  EXPECT_TRUE(check_cluster_size(16384, true).is_ok());
  EXPECT_TRUE(check_refcount_bits(3, 3).is_error());
  EXPECT_TRUE(check_refcount_bits(8, 2).is_error());
  Qcow2Options o;
  o.size = 100000ull << 40;
  EXPECT_TRUE(plan_qcow2(o, nullptr).is_error());
}

TEST(MeasurePlan, RawRoundsToSectors) {
  EXPECT_EQ(plan_raw(1, nullptr).required, 512u);
  EXPECT_EQ(plan_raw(1ull << 30, nullptr).fully_allocated, 1ull << 30);
}

TEST(MeasurePlan, DataCounterCountsEachClusterOnce) {
  DataCounter c;
  c.add_data(0, 4096);           // one 64k cluster, eight 512-byte clusters
  c.add_data(1 << 20, 102400);   // two 64k clusters, 200 small ones
  c.add_data((1 << 20) + 102400, 1);  // inside the last counted 64k cluster
  EXPECT_EQ(c.bytes_for(65536), 3u * 65536);
  EXPECT_EQ(c.bytes_for(512), (8u + 200u + 1u) * 512);
  EXPECT_EQ(c.bytes_for(2u << 20), 1u * (2u << 20));
}

TEST(MeasurePlan, BitmapsSizeMatchesQemu) {
  // 100M image, bitmaps "bm1" (64k), "bm-with-longer-name" (512 bytes), "bm3" (64k): qemu says 458752.
  BitmapSpec b[3] = {{3, 16}, {19, 9}, {3, 16}};
  auto size = qcow2_bitmaps_size(b, 3, 100ull << 20, 65536);
  ASSERT_TRUE(size.is_ok());
  EXPECT_EQ(size.value(), 458752u);
  auto small = qcow2_bitmaps_size(b, 3, 100ull << 20, 512);
  ASSERT_TRUE(small.is_ok());
  EXPECT_EQ(small.value(), 28672u);
}

}  // namespace
}  // namespace instar::measure
