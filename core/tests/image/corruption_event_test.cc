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
  e.refblock_unaligned(0x20200, 0, 0);
  EXPECT_EQ(text(e),
            "qcow2: Image is corrupt: Refblock offset 0x20200 unaligned (reftable index: 0); further non-fatal "
            "corruption events will be suppressed");
  CorruptionEvent f;
  f.refblock_unaligned(0x80200, 1, 0);
  EXPECT_EQ(text(f),
            "qcow2: Image is corrupt: Refblock offset 0x80200 unaligned (reftable index: 0x1); further non-fatal "
            "corruption events will be suppressed");
}

TEST(CorruptionEvent, LaterEventsAreSuppressed) {
  CorruptionEvent e;
  e.refblock_unaligned(0x20200, 0, 0);
  std::string first = text(e);
  e.refblock_unaligned(0x80200, 1, 1);
  EXPECT_EQ(text(e), first);
  EXPECT_EQ(e.sequence(), 0u);  // the first event's number
}

TEST(CorruptionEvent, WidestNumbersFit) {
  CorruptionEvent e;
  e.refblock_unaligned(0x00fffffffffffe00ull, 0x1fffffffffffffffull, 0);
  EXPECT_EQ(text(e),
            "qcow2: Image is corrupt: Refblock offset 0xfffffffffffe00 unaligned (reftable index: "
            "0x1fffffffffffffff); further non-fatal corruption events will be suppressed");
}

}  // namespace
}  // namespace instar::image
