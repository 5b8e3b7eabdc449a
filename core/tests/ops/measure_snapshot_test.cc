// measure_snapshot_test.cc: measure -l's lookup (find_measure_snapshot) as qemu's
// find_snapshot_by_id_and_name and bdrv_snapshot_load_tmp_by_id_or_name choose.
#include "core/ops/measure_snapshot.h"

#include <gtest/gtest.h>

#include <string>

namespace instar {
namespace {

constexpr uint64_t kCluster = 65536;

// The table `qemu-img snapshot -c first` then `-c second_longer_name` wrote to a 1 MiB image.
// clang-format off
constexpr uint8_t kQemuTable[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x05,
    0x6b, 0x02, 0x26, 0x9c, 0x14, 0xf4, 0x8c, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x31, 0x66, 0x69, 0x72, 0x73, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x12, 0x6b, 0x02, 0x26, 0x9c, 0x15, 0x46, 0x55, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x32, 0x73, 0x65, 0x63, 0x6f, 0x6e, 0x64, 0x5f,
    0x6c, 0x6f, 0x6e, 0x67, 0x65, 0x72, 0x5f, 0x6e, 0x61, 0x6d, 0x65,
};
// clang-format on

Qcow2SnapshotReader qemu_reader() { return Qcow2SnapshotReader(ByteSpan(kQemuTable, sizeof kQemuTable), 2, kCluster); }

SnapshotKey key(const std::string& text) {
  SnapshotKey k;
  k.present = true;
  k.length = static_cast<uint16_t>(text.size());
  for (size_t i = 0; i < text.size(); i++) k.bytes[i] = text[i];
  return k;
}

MeasureParams by_text(const std::string& text) {
  MeasureParams p;
  p.lookup = SnapshotLookup::id_or_name;
  p.id = key(text);
  return p;
}

MeasureParams by_options(const char* id, const char* name) {
  MeasureParams p;
  p.lookup = SnapshotLookup::id_and_name;
  if (id != nullptr) p.id = key(id);
  if (name != nullptr) p.name = key(name);
  return p;
}

int64_t find(const MeasureParams& p) {
  Qcow2Snapshot found{};
  auto r = find_measure_snapshot(p, qemu_reader(), found);
  EXPECT_TRUE(r.is_ok());
  return r.is_ok() ? r.value() : -2;
}

TEST(MeasureSnapshot, BareTextMatchesAnIdOrAName) {
  EXPECT_EQ(find(by_text("1")), 0);
  EXPECT_EQ(find(by_text("2")), 1);
  EXPECT_EQ(find(by_text("first")), 0);
  EXPECT_EQ(find(by_text("second_longer_name")), 1);
  EXPECT_EQ(find(by_text("second")), -1);  // whole strings only
  EXPECT_EQ(find(by_text("")), -1);
}

TEST(MeasureSnapshot, OptionsMustAllMatchOneEntry) {
  EXPECT_EQ(find(by_options("1", nullptr)), 0);
  EXPECT_EQ(find(by_options(nullptr, "second_longer_name")), 1);
  EXPECT_EQ(find(by_options("2", "second_longer_name")), 1);
  EXPECT_EQ(find(by_options("1", "second_longer_name")), -1);
  EXPECT_EQ(find(by_options("first", nullptr)), -1);  // snapshot.id is an id, never a name
  EXPECT_EQ(find(by_options(nullptr, nullptr)), -1);
}

TEST(MeasureSnapshot, NoLookupFindsNothing) { EXPECT_EQ(find(MeasureParams{}), -1); }

}  // namespace
}  // namespace instar
