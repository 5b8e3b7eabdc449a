#include "core/image/corruption_event.h"

#include <gtest/gtest.h>

#include <string>

namespace instar::image {
namespace {

std::string text(const CorruptionEvent& e) {
  return std::string(reinterpret_cast<const char*>(e.line().data), e.line().size);
}

TEST(CorruptionEvent, NoneUntilSignaled) {
  CorruptionEvent e;
  EXPECT_FALSE(e.signaled());
  EXPECT_EQ(e.line().size, 0u);
}

// qemu formats both numbers with printf's %#x: no "0x" for zero (measured with qemu-img 7.2 and 10.0).
TEST(CorruptionEvent, RefblockUnalignedAsQemuPrintsIt) {
  CorruptionEvent e;
  e.refblock_unaligned(0x20200, 0, nullptr);
  EXPECT_EQ(text(e),
            "qcow2: Image is corrupt: Refblock offset 0x20200 unaligned (reftable index: 0); further non-fatal "
            "corruption events will be suppressed");
  CorruptionEvent f;
  f.refblock_unaligned(0x80200, 1, nullptr);
  EXPECT_EQ(text(f),
            "qcow2: Image is corrupt: Refblock offset 0x80200 unaligned (reftable index: 0x1); further non-fatal "
            "corruption events will be suppressed");
}

TEST(CorruptionEvent, LaterEventsAreSuppressed) {
  CorruptionEvent e;
  EventClock clock;
  e.refblock_unaligned(0x20200, 0, &clock);
  std::string first = text(e);
  e.refblock_unaligned(0x80200, 1, &clock);
  EXPECT_EQ(text(e), first);
  EXPECT_EQ(e.sequence(), 0u);  // the first event's number
  EXPECT_EQ(clock.next, 1u);    // a suppressed event takes none
}

TEST(CorruptionEvent, WidestNumbersFit) {
  CorruptionEvent e;
  e.refblock_unaligned(0x00fffffffffffe00ull, 0x1fffffffffffffffull, nullptr);
  EXPECT_EQ(text(e),
            "qcow2: Image is corrupt: Refblock offset 0xfffffffffffe00 unaligned (reftable index: "
            "0x1fffffffffffffff); further non-fatal corruption events will be suppressed");
}

// The read path's events (qcow2_get_host_offset), as qemu-img 7.2 and 10.0 print them: the L1 index in
// %#PRIx64, the L2 index in %#x, the same "0" for zero; qemu's two spaces and unbalanced parenthesis.
TEST(CorruptionEvent, ReadPathFormsAsQemuPrintsThem) {
  const std::string tail = "; further non-fatal corruption events will be suppressed";
  CorruptionEvent a, b, c, d, e, f, g;
  a.l2_table_unaligned(0x40200, 0, nullptr);
  EXPECT_EQ(text(a), "qcow2: Image is corrupt: L2 table offset 0x40200 unaligned (L1 index: 0)" + tail);
  b.l2_table_unaligned(0x60200, 1, nullptr);
  EXPECT_EQ(text(b), "qcow2: Image is corrupt: L2 table offset 0x60200 unaligned (L1 index: 0x1)" + tail);
  c.cluster_unaligned(0x50200, 0x40000, 0, nullptr);
  EXPECT_EQ(text(c),
            "qcow2: Image is corrupt: Cluster allocation offset 0x50200 unaligned (L2 offset: 0x40000, L2 index: 0)" +
                tail);
  d.zero_in_v2(0x40000, 1, nullptr);
  EXPECT_EQ(text(d),
            "qcow2: Image is corrupt: Zero cluster entry found in pre-v3 image (L2 offset: 0x40000, L2 index: 0x1)" +
                tail);
  e.compressed_with_data_file(0x40000, 1, nullptr);
  EXPECT_EQ(text(e),
            "qcow2: Image is corrupt: Compressed cluster entry found in image with external data file (L2 offset: "
            "0x40000, L2 index: 0x1)" +
                tail);
  f.data_file_mismatch(0x20000, 0x10000, 1, nullptr);
  EXPECT_EQ(text(f),
            "qcow2: Image is corrupt: External data file host cluster offset 0x20000 does not match guest cluster "
            "offset: 0x10000, L2 index: 0x1)" +
                tail);
  g.invalid_entry(0x40000, 3, nullptr);
  EXPECT_EQ(text(g), "qcow2: Image is corrupt: Invalid cluster entry found  (L2 offset: 0x40000, L2 index: 0x3)" + tail);
}

TEST(CorruptionEvent, ReadPathEventsAreSuppressedToo) {
  CorruptionEvent e;
  EventClock clock{4};
  e.cluster_unaligned(0x50200, 0x40000, 0, &clock);
  std::string first = text(e);
  e.l2_table_unaligned(0x60200, 1, &clock);
  e.invalid_entry(0x40000, 3, &clock);
  e.refblock_unaligned(0x20200, 0, &clock);
  EXPECT_EQ(text(e), first);
  EXPECT_EQ(e.sequence(), 4u);
  EXPECT_EQ(clock.next, 5u);
}

TEST(CorruptionEvent, LongestLineFits) {
  CorruptionEvent e;
  e.data_file_mismatch(0x00fffffffffffe00ull, 0xffffffffffff0000ull, 0xffffffffu, nullptr);
  EXPECT_EQ(text(e),
            "qcow2: Image is corrupt: External data file host cluster offset 0xfffffffffffe00 does not match guest "
            "cluster offset: 0xffffffffffff0000, L2 index: 0xffffffff); further non-fatal corruption events will be "
            "suppressed");
}

}  // namespace
}  // namespace instar::image
