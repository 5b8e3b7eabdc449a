// qcow2_snapshot_repair_fuzzer.cc: qcow2::scan_snapshot_table, build_snapshot_table and
// place_snapshot_table (check's read of the snapshot table and -r all's rewrite of it) on any table.
// A scan in repair mode keeps a prefix of the entries (the rest overhang); wherever a strict scan
// succeeds it does too, with the same entries and length and nothing dropped or discarded, and where
// it succeeds alone it dropped extra data or discarded entries. The entries kept build a table of
// exactly new_length bytes, in pieces that are in order, 8-byte aligned, apart by padding only (under
// 8 bytes, left zero); that table is a fixed point: scanned again, strict or not, nothing to drop or
// complete, its own length; built again, the same bytes. A placement is the first run of free clusters
// (every cluster before it lies in no free run that long).
//
// Input (big-endian, docs/fuzzing.md): flags u8 (bit 0: version 3), nb_snapshots u8 (n % 9), virtual
// size u32 (in 512-byte units), clusters wanted u8 (1 + n % 4), refcounts u8 (n % 33) of one byte each
// (0 free), then the table's bytes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/qcow2/snapshot_table_repair.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

constexpr size_t kScratchBytes = 4u << 20;

class QuietLog final : public instar::qcow2::CheckLog {
 public:
  void line(instar::ByteSpan) override { lines++; }
  void error_line(instar::ByteSpan) override { lines++; }
  size_t lines = 0;
};

class ByteRefcounts final : public instar::qcow2::RefcountProbe {
 public:
  explicit ByteRefcounts(instar::ByteSpan r) : r_(r) {}
  bool refcount(uint64_t cluster, uint64_t& value) override {
    value = cluster < r_.size ? r_[static_cast<size_t>(cluster)] : 0;
    return true;
  }

 private:
  instar::ByteSpan r_;
};

void check_placement(instar::fuzz::InputReader& in) {
  uint64_t wanted = 1 + in.u8() % 4;
  instar::ByteSpan refcounts = in.bytes(in.u8() % 33);
  ByteRefcounts probe(refcounts);
  auto placed = instar::qcow2::place_snapshot_table(wanted, refcounts.size + wanted, probe);
  INSTAR_FUZZ_CHECK(placed.is_ok());  // past the refcounts every cluster is free
  uint64_t first = placed.value();
  auto at = [&](uint64_t k) { return k < refcounts.size ? refcounts[static_cast<size_t>(k)] : 0; };
  for (uint64_t k = first; k < first + wanted; k++) INSTAR_FUZZ_CHECK(at(k) == 0);
  uint64_t run = 0;
  for (uint64_t k = 0; k + 1 < first + wanted; k++) {
    run = at(k) == 0 ? run + 1 : 0;
    INSTAR_FUZZ_CHECK(run < wanted);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  using namespace instar::qcow2;
  instar::fuzz::InputReader in(instar::ByteSpan(data, size));
  Header h;
  h.version = (in.u8() & 1) != 0 ? 3 : 2;
  h.nb_snapshots = in.u8() % 9;
  h.size = uint64_t{in.u32()} * 512;
  h.cluster_bits = 16;
  h.snapshots_offset = 0x10000;
  check_placement(in);
  instar::ByteSpan table = in.rest();

  std::vector<uint8_t> scratch(kScratchBytes);
  instar::Arena arena(scratch.data(), scratch.size());
  QuietLog log;
  auto strict = scan_snapshot_table(table, h, false, log);
  auto scan = scan_snapshot_table(table, h, true, log);
  if (strict.is_ok()) {
    INSTAR_FUZZ_CHECK(scan.is_ok());
    INSTAR_FUZZ_CHECK(scan.value().count == strict.value().count && scan.value().overhanging == 0);
    INSTAR_FUZZ_CHECK(scan.value().extra_dropped == 0 && strict.value().extra_dropped == 0);
    INSTAR_FUZZ_CHECK(scan.value().old_length == strict.value().old_length);
  }
  if (scan.is_error()) return 0;
  const SnapshotTableScan& s = scan.value();
  INSTAR_FUZZ_CHECK(s.count + s.overhanging == h.nb_snapshots);
  INSTAR_FUZZ_CHECK(strict.is_ok() || s.overhanging != 0 || s.extra_dropped != 0);
  h.nb_snapshots = s.count;  // the entries kept
  auto built = build_snapshot_table(table, h, arena);
  if (built.is_error()) {
    INSTAR_FUZZ_CHECK(built.error().code == instar::Errc::too_large);
    return 0;
  }
  const SnapshotTableImage& t = built.value();
  INSTAR_FUZZ_CHECK(t.bytes.size == s.new_length);
  INSTAR_FUZZ_CHECK(t.piece_count <= s.count);
  uint64_t end = 0;
  for (size_t i = 0; i < t.piece_count; i++) {
    const SnapshotTablePiece& p = t.pieces[i];
    INSTAR_FUZZ_CHECK(p.at % 8 == 0 && p.length != 0);
    INSTAR_FUZZ_CHECK(p.at >= end && p.at - end < 8 && (i == 0 || p.at > end));
    for (uint64_t k = end; k < p.at; k++) INSTAR_FUZZ_CHECK(t.bytes[static_cast<size_t>(k)] == 0);
    INSTAR_FUZZ_CHECK(p.length <= t.bytes.size - p.at);
    end = p.at + p.length;
  }
  INSTAR_FUZZ_CHECK(end == t.bytes.size);

  // The rewritten table is one qemu would leave as it is.
  std::vector<uint8_t> copy(t.bytes.data, t.bytes.data + t.bytes.size);
  instar::ByteSpan again(copy.data(), copy.size());
  for (bool repair : {false, true}) {
    auto rescan = scan_snapshot_table(again, h, repair, log);
    INSTAR_FUZZ_CHECK(rescan.is_ok());
    INSTAR_FUZZ_CHECK(rescan.value().count == s.count && rescan.value().corruptions() == 0);
    INSTAR_FUZZ_CHECK(rescan.value().old_length == copy.size() && rescan.value().new_length == copy.size());
  }
  auto rebuilt = build_snapshot_table(again, h, arena);
  INSTAR_FUZZ_CHECK(rebuilt.is_ok());
  INSTAR_FUZZ_CHECK(rebuilt.value().bytes.size == copy.size());
  for (size_t i = 0; i < copy.size(); i++) INSTAR_FUZZ_CHECK(rebuilt.value().bytes[i] == copy[i]);
  return 0;
}
