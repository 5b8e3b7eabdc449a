#include "core/qcow2/snapshot_table.h"
#include "core/tests/qcow2/qemu_snapshot_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

// Expectations were checked against `qemu-img info` (7.2 and 10.0) on images carrying the same tables.

namespace instar {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kCluster = 65536;

using test::kQemuTable;  // qemu_snapshot_table.h

void put_be(Bytes& b, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; i--) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

struct Entry {
  uint64_t l1_offset = 0x40000;
  uint32_t l1_size = 1;
  std::string id = "1";
  std::string name = "snap";
  uint32_t date_sec = 1700000000;
  uint32_t date_nsec = 5;
  uint64_t vm_clock_nsec = 42;
  uint32_t vm_state_size = 0;
  Bytes extra;
  int id_size = -1;  // on-disk size fields, when they should differ from the strings
  int name_size = -1;
  uint32_t extra_size = UINT32_MAX;
};

void append(Bytes& t, const Entry& e) {
  while (t.size() % 8 != 0) t.push_back(0);
  put_be(t, e.l1_offset, 8);
  put_be(t, e.l1_size, 4);
  put_be(t, e.id_size >= 0 ? static_cast<uint64_t>(e.id_size) : e.id.size(), 2);
  put_be(t, e.name_size >= 0 ? static_cast<uint64_t>(e.name_size) : e.name.size(), 2);
  put_be(t, e.date_sec, 4);
  put_be(t, e.date_nsec, 4);
  put_be(t, e.vm_clock_nsec, 8);
  put_be(t, e.vm_state_size, 4);
  put_be(t, e.extra_size != UINT32_MAX ? e.extra_size : e.extra.size(), 4);
  t.insert(t.end(), e.extra.begin(), e.extra.end());
  t.insert(t.end(), e.id.begin(), e.id.end());
  t.insert(t.end(), e.name.begin(), e.name.end());
}

Bytes table_of(const std::vector<Entry>& entries) {
  Bytes t;
  for (const Entry& e : entries) append(t, e);
  return t;
}

ByteSpan span(const Bytes& b) { return ByteSpan(b.data(), b.size()); }
std::string str(ByteSpan s) { return std::string(reinterpret_cast<const char*>(s.data), s.size); }

Qcow2Snapshot next_ok(Qcow2SnapshotReader& r) {
  Qcow2Snapshot s{};
  auto got = r.next(s);
  EXPECT_TRUE(got.is_ok());
  if (got.is_ok()) {
    EXPECT_TRUE(got.value());
  }
  return s;
}

void expect_done(Qcow2SnapshotReader& r) {
  Qcow2Snapshot s{};
  auto got = r.next(s);
  ASSERT_TRUE(got.is_ok());
  EXPECT_FALSE(got.value());
}

TEST(Qcow2SnapshotTable, ReadsTheTableQemuImgWrote) {
  Qcow2SnapshotReader r(ByteSpan(kQemuTable, sizeof(kQemuTable)), 2, kCluster, 0x70000);
  Qcow2Snapshot a = next_ok(r);
  EXPECT_EQ(str(a.id), "1");
  EXPECT_EQ(str(a.name), "first");
  EXPECT_EQ(a.l1_table_offset, 0x40000u);
  EXPECT_EQ(a.l1_size, 1u);
  EXPECT_EQ(a.date_sec, 1795303068u);
  EXPECT_EQ(a.date_nsec, 351571000u);
  EXPECT_EQ(a.vm_clock_nsec, 0u);
  EXPECT_EQ(a.vm_state_size, 0u);
  EXPECT_EQ(a.extra_data_size, 24u);
  EXPECT_TRUE(a.has_disk_size);
  EXPECT_EQ(a.disk_size, 1048576u);
  EXPECT_TRUE(a.has_icount);
  EXPECT_EQ(a.icount, 0u);
  Qcow2Snapshot b = next_ok(r);
  EXPECT_EQ(str(b.id), "2");
  EXPECT_EQ(str(b.name), "second_longer_name");
  EXPECT_EQ(b.l1_table_offset, 0x60000u);
  expect_done(r);
  EXPECT_EQ(r.entries_read(), 2u);
  EXPECT_EQ(r.table_length(), sizeof(kQemuTable));
}

TEST(Qcow2SnapshotTable, NoSnapshotsIsDoneAtOnce) {
  Qcow2SnapshotReader r(ByteSpan(), 0, kCluster);
  expect_done(r);
}

TEST(Qcow2SnapshotTable, BytesPastTheBufferReadAsZeros) {
  // qemu reads a table beyond the end of the file as zeros: empty, dateless snapshots.
  Qcow2SnapshotReader r(ByteSpan(), 2, kCluster);
  for (int i = 0; i < 2; i++) {
    Qcow2Snapshot s = next_ok(r);
    EXPECT_EQ(s.id.size, 0u);
    EXPECT_EQ(s.name.size, 0u);
    EXPECT_EQ(s.date_sec, 0u);
    EXPECT_EQ(s.l1_table_offset, 0u);
    EXPECT_FALSE(s.has_disk_size);
    EXPECT_FALSE(s.has_icount);
  }
  expect_done(r);
  EXPECT_EQ(r.table_length(), 80u);
}

TEST(Qcow2SnapshotTable, NameCutByEndOfBufferEndsThere) {
  Entry e;
  e.name = "truncated";
  Bytes t = table_of({e});
  t.resize(t.size() - 4);
  Qcow2SnapshotReader r(span(t), 1, kCluster);
  EXPECT_EQ(str(next_ok(r).name), "trunc");
}

TEST(Qcow2SnapshotTable, NamesStopAtTheFirstNul) {
  Entry e;
  e.id = std::string("7\0x", 3);
  e.name = std::string("ab\0cd", 5);
  Bytes t = table_of({e, Entry{}});
  Qcow2SnapshotReader r(span(t), 2, kCluster);
  Qcow2Snapshot s = next_ok(r);
  EXPECT_EQ(str(s.id), "7");
  EXPECT_EQ(str(s.name), "ab");
  EXPECT_EQ(str(next_ok(r).name), "snap");  // the sizes, not the NULs, place the next entry
}

TEST(Qcow2SnapshotTable, EntriesStartEightByteAligned) {
  Entry odd;
  odd.name = "abc";  // 40 + 1 + 3 bytes: the next entry starts 4 bytes later
  Entry second;
  second.id = "2";
  Bytes t = table_of({odd, second});
  Qcow2SnapshotReader r(span(t), 2, kCluster);
  next_ok(r);
  EXPECT_EQ(r.table_length(), 44u);
  EXPECT_EQ(str(next_ok(r).id), "2");
}

TEST(Qcow2SnapshotTable, ExtraDataFieldsCountByLength) {
  Entry none;
  none.vm_state_size = 0x1234;
  Entry large;
  put_be(large.extra, 0x1122334455ull, 8);
  Entry disk = large;
  put_be(disk.extra, 0x40000000, 8);
  Entry icount = disk;
  put_be(icount.extra, 77, 8);
  Entry no_icount = disk;
  put_be(no_icount.extra, UINT64_MAX, 8);
  Entry unknown = icount;
  put_be(unknown.extra, 0xdead, 8);
  unknown.id = "u";
  Bytes t = table_of({none, large, disk, icount, no_icount, unknown});
  Qcow2SnapshotReader r(span(t), 6, kCluster);

  Qcow2Snapshot s = next_ok(r);
  EXPECT_EQ(s.vm_state_size, 0x1234u);
  EXPECT_FALSE(s.has_disk_size);
  EXPECT_FALSE(s.has_icount);
  EXPECT_EQ(s.icount, UINT64_MAX);
  s = next_ok(r);
  EXPECT_EQ(s.vm_state_size, 0x1122334455u);
  EXPECT_FALSE(s.has_disk_size);
  s = next_ok(r);
  EXPECT_TRUE(s.has_disk_size);
  EXPECT_EQ(s.disk_size, 0x40000000u);
  EXPECT_FALSE(s.has_icount);
  s = next_ok(r);
  EXPECT_TRUE(s.has_icount);
  EXPECT_EQ(s.icount, 77u);
  s = next_ok(r);
  EXPECT_FALSE(s.has_icount);  // qemu treats -1 as no icount
  s = next_ok(r);
  EXPECT_EQ(s.extra_data_size, 32u);
  EXPECT_EQ(str(s.id), "u");  // unknown extra data is skipped
  expect_done(r);
}

TEST(Qcow2SnapshotTable, RejectsTooMuchExtraDataNamingTheEntry) {
  Entry ok_entry;
  ok_entry.extra.assign(1024, 0);
  Entry bad;
  bad.extra_size = 1025;
  Bytes t = table_of({ok_entry, bad});
  Qcow2SnapshotReader r(span(t), 2, kCluster);
  next_ok(r);
  Qcow2Snapshot s{};
  auto got = r.next(s);
  ASSERT_TRUE(got.is_error());
  EXPECT_EQ(got.error().code, Errc::too_large);
  EXPECT_STREQ(got.error().message,
               "Too much extra metadata in snapshot table entry {}\n"
               "You can force-remove this extra metadata with qemu-img check -r all");
  EXPECT_EQ(got.error().detail, 1u);
  EXPECT_TRUE(qcow2_snapshot_error_repairable(got.error()));  // what check -r all removes
  // The error sticks.
  auto again = r.next(s);
  ASSERT_TRUE(again.is_error());
  EXPECT_EQ(again.error().detail, 1u);
}

TEST(Qcow2SnapshotTable, RejectsATableOverSixtyFourMebibytes) {
  // 515 entries of 40 + 65535 + 65535 bytes: entry 511 crosses 64 MiB, leaving 4 overhanging.
  Bytes t;
  for (int i = 0; i < 515; i++) {
    while (t.size() % 8 != 0) t.push_back(0);
    put_be(t, 0, 8);
    put_be(t, 0, 4);
    put_be(t, 65535, 2);
    put_be(t, 65535, 2);
    t.resize(t.size() + 24 + 131070, 0);
    if (t.size() > kQcow2MaxSnapshotTableBytes) break;
  }
  Qcow2SnapshotReader r(span(t), 515, kCluster);
  auto got = r.validate();
  ASSERT_TRUE(got.is_error());
  EXPECT_STREQ(got.error().message,
               "Snapshot table is too big\n"
               "You can force-remove all {} overhanging snapshots with qemu-img check -r all");
  EXPECT_EQ(got.error().detail, 4u);
  EXPECT_TRUE(qcow2_snapshot_error_repairable(got.error()));
  Qcow2Snapshot s{};
  for (int i = 0; i < 511; i++) ASSERT_TRUE(r.next(s).is_ok());
  EXPECT_TRUE(r.next(s).is_error());
  EXPECT_EQ(r.entries_read(), 511u);
}

TEST(Qcow2SnapshotTable, FailsReadsPastQemusMaximumOffset) {
  // 1638 zero entries of 40 bytes fit below BDRV_MAX_LENGTH; the next header's read crosses it.
  uint64_t offset = kQemuMaxIoOffset - 0x10000;
  EXPECT_TRUE(Qcow2SnapshotReader(ByteSpan(), 1638, kCluster, offset).validate().is_ok());
  auto got = Qcow2SnapshotReader(ByteSpan(), 1639, kCluster, offset).validate();
  ASSERT_TRUE(got.is_error());
  EXPECT_EQ(got.error().code, Errc::io);
  EXPECT_STREQ(got.error().message, "Failed to read snapshot table: Input/output error");
  EXPECT_FALSE(qcow2_snapshot_error_repairable(got.error()));
}

TEST(Qcow2SnapshotTable, ValidateLeavesTheReaderWhereItWas) {
  Qcow2SnapshotReader r(ByteSpan(kQemuTable, sizeof(kQemuTable)), 2, kCluster);
  EXPECT_TRUE(r.validate().is_ok());
  EXPECT_EQ(r.entries_read(), 0u);
  EXPECT_EQ(str(next_ok(r).name), "first");
}

TEST(Qcow2SnapshotTable, ChecksASnapshotL1TableBeforeUse) {
  Qcow2SnapshotReader r(ByteSpan(), 0, kCluster);
  Qcow2Snapshot s{};
  s.l1_table_offset = 0x40000;
  s.l1_size = 0x400000;  // 32 MiB of entries: the limit
  EXPECT_TRUE(r.validate_l1(s).is_ok());
  s.l1_size = 0x400001;
  auto big = r.validate_l1(s);
  ASSERT_TRUE(big.is_error());
  EXPECT_STREQ(big.error().message, "Snapshot L1 table too large");
  s.l1_size = 1;
  s.l1_table_offset = 0x40200;
  auto unaligned = r.validate_l1(s);
  ASSERT_TRUE(unaligned.is_error());
  EXPECT_STREQ(unaligned.error().message, "Snapshot L1 table offset invalid");
}

}  // namespace
}  // namespace instar
