// measure_snapshot_test.cc: measure -l's lookup (find_measure_snapshot) as qemu's
// find_snapshot_by_id_and_name and bdrv_snapshot_load_tmp_by_id_or_name choose.
#include "core/ops/measure_snapshot.h"
#include "core/tests/qcow2/qemu_snapshot_table.h"

#include <gtest/gtest.h>

#include <string>

namespace instar {
namespace {

constexpr uint64_t kCluster = 65536;

using test::kQemuTable;  // qemu_snapshot_table.h

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
