#include "core/qcow2/snapshot_table_repair.h"
#include "core/tests/qcow2/qemu_snapshot_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

// Expectations were measured: qemu-img 7.2 and 10.0 `check -r all` wrote these tables (docs/check.md).

namespace instar::qcow2 {
namespace {

using Bytes = std::vector<uint8_t>;

// kQemuTable (qemu_snapshot_table.h): qemu's rewrite of a table it wrote itself is that table again.
using test::kQemuTable;

Header header_of(uint32_t nb_snapshots, uint64_t size = 1 << 20, uint32_t version = 3) {
  Header h;
  h.version = version;
  h.cluster_bits = 16;
  h.size = size;
  h.snapshots_offset = 0x70000;
  h.nb_snapshots = nb_snapshots;
  return h;
}

void put_be(Bytes& b, size_t at, uint64_t v, int width) {
  for (int i = 0; i < width; i++) b[at + i] = static_cast<uint8_t>(v >> (8 * (width - 1 - i)));
}

uint64_t get_be(ByteSpan b, size_t at, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; i++) v = (v << 8) | b[at + i];
  return v;
}

class Lines final : public CheckLog {
 public:
  void line(ByteSpan text) override {
    lines.emplace_back(reinterpret_cast<const char*>(text.data), text.size);
  }
  void error_line(ByteSpan text) override { line(text); }
  std::vector<std::string> lines;
};

struct Scratch {
  std::vector<uint8_t> memory = std::vector<uint8_t>(1 << 20);
  Arena arena{memory.data(), memory.size()};
};

ByteSpan qemu_table() { return ByteSpan(kQemuTable, sizeof kQemuTable); }

TEST(SnapshotTableRepair, RewritesQemusOwnTableByteForByte) {
  Scratch s;
  Header h = header_of(2);
  auto built = build_snapshot_table(qemu_table(), h, s.arena);
  ASSERT_TRUE(built.is_ok());
  const SnapshotTableImage& t = built.value();
  ASSERT_EQ(t.bytes.size, sizeof kQemuTable);
  EXPECT_EQ(Bytes(t.bytes.data, t.bytes.data + t.bytes.size),
            Bytes(kQemuTable, kQemuTable + sizeof kQemuTable));
  // The two padding bytes after the first entry (70, 71) are not written.
  ASSERT_EQ(t.piece_count, 2u);
  EXPECT_EQ(t.pieces[0].at, 0u);
  EXPECT_EQ(t.pieces[0].length, 70u);
  EXPECT_EQ(t.pieces[1].at, 72u);
  EXPECT_EQ(t.pieces[1].length, sizeof kQemuTable - 72);
}

TEST(SnapshotTableRepair, ScanOfAHealthyTableFindsNothing) {
  Lines log;
  auto scan = scan_snapshot_table(qemu_table(), header_of(2), true, log);
  ASSERT_TRUE(scan.is_ok());
  EXPECT_EQ(scan.value().corruptions(), 0u);
  EXPECT_EQ(scan.value().old_length, sizeof kQemuTable);
  EXPECT_EQ(scan.value().new_length, sizeof kQemuTable);
  EXPECT_TRUE(log.lines.empty());
}

// The measured `extra` image: entry 0 of a one-entry table claims 2000 bytes of extra data.
Bytes too_much_extra_table() {
  Bytes t(kQemuTable, kQemuTable + 70);  // the first entry alone: "1", "first"
  put_be(t, 36, 2000, 4);
  return t;
}

TEST(SnapshotTableRepair, CutsTooMuchExtraDataTo1024BytesAsQemuDoes) {
  Bytes t = too_much_extra_table();
  Header h = header_of(1);
  Lines log;
  auto scan = scan_snapshot_table(ByteSpan(t.data(), t.size()), h, true, log);
  ASSERT_TRUE(scan.is_ok());
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0], "Discarding too much extra metadata in snapshot table entry 0 (2000 > 1024)");
  EXPECT_EQ(scan.value().extra_dropped, 1u);
  EXPECT_EQ(scan.value().old_length, 40u + 2000 + 1 + 5);  // qemu counts the whole entry as read
  EXPECT_EQ(scan.value().new_length, 40u + 1024);          // id and name, past the end, are empty

  Scratch s;
  auto built = build_snapshot_table(ByteSpan(t.data(), t.size()), h, s.arena);
  ASSERT_TRUE(built.is_ok());
  ByteSpan b = built.value().bytes;
  ASSERT_EQ(b.size, 1064u);
  EXPECT_EQ(get_be(b, 12, 2), 0u);         // id size
  EXPECT_EQ(get_be(b, 14, 2), 0u);         // name size
  EXPECT_EQ(get_be(b, 36, 4), 1024u);      // extra data size
  EXPECT_EQ(get_be(b, 48, 8), 0x100000u);  // disk size, as read
  // The unknown extra data kept: the old table's bytes from 64 on (the old id and name), then zeros.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data + 64), 6), "1first");
  for (size_t i = 70; i < b.size; i++) ASSERT_EQ(b[i], 0) << i;
}

TEST(SnapshotTableRepair, WithoutRepairTooMuchExtraDataIsAnError) {
  Bytes t = too_much_extra_table();
  Lines log;
  auto scan = scan_snapshot_table(ByteSpan(t.data(), t.size()), header_of(1), false, log);
  ASSERT_TRUE(scan.is_error());
  EXPECT_EQ(scan.error().code, Errc::too_large);
  EXPECT_TRUE(log.lines.empty());
}

// The measured `incomplete` image: 8 bytes of extra data in a v3 image.
TEST(SnapshotTableRepair, IncompleteEntriesAreReportedAndRewrittenWithQemusDefaults) {
  Bytes t(kQemuTable, kQemuTable + 70);
  put_be(t, 36, 8, 4);
  Header h = header_of(1, 64 << 20);
  for (bool repair : {false, true}) {
    Lines log;
    auto scan = scan_snapshot_table(ByteSpan(t.data(), t.size()), h, repair, log);
    ASSERT_TRUE(scan.is_ok());
    EXPECT_EQ(scan.value().incomplete, 1u);
    ASSERT_EQ(log.lines.size(), 1u);
    EXPECT_EQ(log.lines[0], repair ? "Repairing snapshot table entry 0 is incomplete"
                                   : "ERROR snapshot table entry 0 is incomplete");
  }
  Scratch s;
  auto built = build_snapshot_table(ByteSpan(t.data(), t.size()), h, s.arena);
  ASSERT_TRUE(built.is_ok());
  ByteSpan b = built.value().bytes;
  ASSERT_EQ(b.size, 64u);  // id and name were read from the old extra data's zeros
  EXPECT_EQ(get_be(b, 36, 4), 24u);
  EXPECT_EQ(get_be(b, 48, 8), uint64_t{64} << 20);  // the virtual size
  EXPECT_EQ(get_be(b, 56, 8), UINT64_MAX);          // no icount
}

TEST(SnapshotTableRepair, Version2EntriesNeedNoExtraData) {
  Bytes t(kQemuTable, kQemuTable + 70);
  put_be(t, 36, 0, 4);
  Lines log;
  auto scan = scan_snapshot_table(ByteSpan(t.data(), t.size()), header_of(1, 1 << 20, 2), true, log);
  ASSERT_TRUE(scan.is_ok());
  EXPECT_EQ(scan.value().corruptions(), 0u);
  EXPECT_TRUE(log.lines.empty());
}

TEST(SnapshotTableRepair, OverhangingEntriesAreDiscardedInRepairModeOnly) {
  // The measured `huge` image: 2 GiB of extra data carry entry 0 past INT_MAX.
  Bytes t = too_much_extra_table();
  put_be(t, 36, 0x80000000u, 4);
  Lines strict_log;
  auto strict = scan_snapshot_table(ByteSpan(t.data(), t.size()), header_of(1), false, strict_log);
  ASSERT_TRUE(strict.is_error());
  EXPECT_EQ(strict.error().code, Errc::too_large);
  Lines log;
  auto scan = scan_snapshot_table(ByteSpan(t.data(), t.size()), header_of(1), true, log);
  ASSERT_TRUE(scan.is_ok());
  EXPECT_EQ(scan.value().count, 0u);
  EXPECT_EQ(scan.value().overhanging, 1u);
  EXPECT_EQ(scan.value().extra_dropped, 1u);  // counted for the entry discarded too
  EXPECT_EQ(scan.value().old_length, 0u);
  EXPECT_EQ(scan.value().new_length, 0u);
  ASSERT_EQ(log.lines.size(), 2u);
  EXPECT_EQ(log.lines[0], "Discarding too much extra metadata in snapshot table entry 0 (2147483648 > 1024)");
  EXPECT_EQ(log.lines[1], "Discarding 1 overhanging snapshots (snapshot table is too big)");
}

TEST(SnapshotTableRepair, EntriesBeforeAnOverhangingOneAreKept) {
  Bytes t(kQemuTable, kQemuTable + sizeof kQemuTable);
  put_be(t, 72 + 36, 0x80000000u, 4);  // the second entry
  Lines log;
  Header h = header_of(2);
  auto scan = scan_snapshot_table(ByteSpan(t.data(), t.size()), h, true, log);
  ASSERT_TRUE(scan.is_ok());
  EXPECT_EQ(scan.value().count, 1u);
  EXPECT_EQ(scan.value().overhanging, 1u);
  EXPECT_EQ(scan.value().old_length, 70u);  // where the kept entry ends
  EXPECT_EQ(scan.value().new_length, 70u);
  h.nb_snapshots = scan.value().count;
  Scratch s;
  auto built = build_snapshot_table(ByteSpan(t.data(), t.size()), h, s.arena);
  ASSERT_TRUE(built.is_ok());
  EXPECT_EQ(Bytes(built.value().bytes.data, built.value().bytes.data + built.value().bytes.size),
            Bytes(kQemuTable, kQemuTable + 70));
}

class FakeRefcounts final : public RefcountProbe {
 public:
  explicit FakeRefcounts(std::vector<uint64_t> r) : refcounts(std::move(r)) {}
  bool refcount(uint64_t cluster, uint64_t& value) override {
    if (cluster == fail_at) return false;
    value = cluster < refcounts.size() ? refcounts[cluster] : 0;
    return true;
  }
  std::vector<uint64_t> refcounts;
  uint64_t fail_at = UINT64_MAX;
};

TEST(SnapshotTableRepair, PlacesTheTableAtTheFirstFreeRunFromClusterZero) {
  FakeRefcounts r({1, 1, 0, 1, 0, 0, 1});
  EXPECT_EQ(place_snapshot_table(1, 100, r).value(), 2u);
  EXPECT_EQ(place_snapshot_table(2, 100, r).value(), 4u);
  EXPECT_EQ(place_snapshot_table(3, 100, r).value(), 7u);  // past the clusters in use
  EXPECT_TRUE(place_snapshot_table(3, 8, r).is_error());
  r.fail_at = 2;
  EXPECT_TRUE(place_snapshot_table(1, 100, r).is_error());
}

}  // namespace
}  // namespace instar::qcow2
