#include "cli/info/backing_path.h"

#include <gtest/gtest.h>

namespace instar::cli {
namespace {

// qemu-img info printed "backing file: base.qcow2 (actual path: /tmp/s/base.qcow2)"
// for /tmp/s/ov.qcow2, and no actual path for ov.qcow2.
TEST(CombineBackingPath, RelativeToImageDirectory) {
  EXPECT_EQ(combine_backing_path("/tmp/s/ov.qcow2", "base.qcow2"), "/tmp/s/base.qcow2");
  EXPECT_EQ(combine_backing_path("ov.qcow2", "base.qcow2"), "base.qcow2");
  EXPECT_EQ(combine_backing_path("d/ov.qcow2", "../b.qcow2"), "d/../b.qcow2");
}

TEST(CombineBackingPath, AbsoluteNameIsKept) {
  EXPECT_EQ(combine_backing_path("/tmp/s/ov.qcow2", "/images/base.qcow2"), "/images/base.qcow2");
}

}  // namespace
}  // namespace instar::cli
