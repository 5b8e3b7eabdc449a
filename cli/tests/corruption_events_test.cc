#include "cli/chain/corruption_events.h"

#include <gtest/gtest.h>

#include "core/ops/info_record.h"

namespace instar::cli {
namespace {

const char kLine[] =
    "qcow2: Image is corrupt: Refblock offset 0x20200 unaligned (reftable index: 0); further non-fatal corruption "
    "events will be suppressed";

RecordField bytes_field(uint16_t tag, const std::string& bytes) {
  RecordField f;
  f.tag = tag;
  f.bytes = bytes;
  return f;
}

TEST(CorruptionEvents, NoneIsEmpty) {
  RecordField root;
  root.is_group = true;
  auto events = corruption_events(root);
  ASSERT_TRUE(events.has_value());
  EXPECT_TRUE(events->empty());
}

TEST(CorruptionEvents, InRecordOrder) {
  RecordField root;
  root.is_group = true;
  std::string second = kLine;
  second.replace(second.find("0x20200"), 7, "0x80200");
  root.children.push_back(bytes_field(kTagCorruptionEvent, kLine));
  root.children.push_back(bytes_field(kTagErrorMessage, "unrelated"));
  root.children.push_back(bytes_field(kTagCorruptionEvent, second));
  auto events = corruption_events(root);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0], kLine);
  EXPECT_EQ((*events)[1], second);
}

// The read path's forms (qcow2_get_host_offset) pass as they are, qemu's odd spacing and parenthesis included.
TEST(CorruptionEvents, AcceptsTheReadPathForms) {
  const std::string tail = "; further non-fatal corruption events will be suppressed";
  RecordField root;
  root.is_group = true;
  const std::string lines[] = {
      "qcow2: Image is corrupt: Invalid cluster entry found  (L2 offset: 0x40000, L2 index: 0x3)" + tail,
      "qcow2: Image is corrupt: External data file host cluster offset 0x20000 does not match guest cluster offset: "
      "0x10000, L2 index: 0x1)" +
          tail};
  for (const std::string& line : lines) root.children.push_back(bytes_field(kTagCorruptionEvent, line));
  auto events = corruption_events(root);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0], lines[0]);
  EXPECT_EQ((*events)[1], lines[1]);
}

TEST(CorruptionEvents, RefusesWhatQemuDoesNotPrint) {
  const std::string line = kLine;
  for (const std::string& bad : {std::string("qemu-img: anything"), line + "\nsecond line",
                                 std::string("qcow2: Marking image as corrupt: x; further corruption events will be suppressed"),
                                 line.substr(0, line.size() - 1), std::string(600, 'a')}) {
    RecordField root;
    root.is_group = true;
    root.children.push_back(bytes_field(kTagCorruptionEvent, bad));
    EXPECT_FALSE(corruption_events(root).has_value()) << bad;
  }
  RecordField number;
  number.tag = kTagCorruptionEvent;
  number.is_u64 = true;
  RecordField root;
  root.is_group = true;
  root.children.push_back(number);
  EXPECT_FALSE(corruption_events(root).has_value());
}

TEST(CorruptionEvents, RefusesMoreThanTwoChainsHold) {
  RecordField root;
  root.is_group = true;
  for (int i = 0; i < 35; i++) root.children.push_back(bytes_field(kTagCorruptionEvent, kLine));
  EXPECT_FALSE(corruption_events(root).has_value());
  root.children.pop_back();
  EXPECT_TRUE(corruption_events(root).has_value());
}

}  // namespace
}  // namespace instar::cli
