// snapshot_table_repair.cc: qemu's check-mode read of the snapshot table and
// the table its -r all writes in its place, with the cluster it goes to.
#include "core/qcow2/snapshot_table_repair.h"

#include "core/base/checked.h"
#include "core/base/padded.h"
#include "core/qcow2/refcount_check_line.h"
#include "core/qcow2/snapshot_table.h"

namespace instar::qcow2 {

namespace {

using check_internal::Line;

// qemu's QCowSnapshotExtraData: the extra data it knows and always writes.
constexpr uint64_t kKnownExtra = 24;
// v3 entries need vm_state_size_large and disk_size.
constexpr uint32_t kV3MinimumExtra = 16;

Qcow2SnapshotReader repair_reader(ByteSpan table, const Header& h) {
  Qcow2SnapshotReader reader(table, h.nb_snapshots, h.cluster_size(), h.snapshots_offset);
  reader.set_repair(true);
  return reader;
}

uint64_t entry_length(const Qcow2Snapshot& s) {
  uint64_t extra = s.extra_data_size > kKnownExtra ? s.extra_data_size : kKnownExtra;
  return kSnapshotHeaderSize + extra + s.id.size + s.name.size;
}

void store_be(uint8_t* at, uint64_t value, size_t width) {
  for (size_t i = 0; i < width; i++) at[i] = static_cast<uint8_t>(value >> (8 * (width - 1 - i)));
}

}  // namespace

Result<SnapshotTableScan> scan_snapshot_table(ByteSpan table, const Header& h, bool repair, CheckLog& log) {
  SnapshotTableScan scan;
  Qcow2SnapshotReader reader(table, h.nb_snapshots, h.cluster_size(), h.snapshots_offset);
  reader.set_repair(repair);
  Qcow2Snapshot s{};
  uint64_t length = 0;
  auto discard_extra = [&](uint32_t index, uint32_t declared) {
    Line l;
    l.text("Discarding too much extra metadata in snapshot table entry ")
        .dec(index)
        .text(" (")
        .dec(declared)
        .text(" > ")
        .dec(kQcow2MaxSnapshotExtraData)
        .text(")");
    log.line(l.span());
    scan.extra_dropped++;
  };
  for (;;) {
    auto more = reader.next(s);
    if (more.is_error() && repair && more.error().code == Errc::too_large) {
      // The entry ends past qemu's limits: it was read whole (its extra data cut first), then it and
      // the rest are discarded; the table qemu keeps ends where the previous entry ended.
      uint64_t start = (reader.table_length() + 7) & ~uint64_t{7};
      uint32_t declared = static_cast<uint32_t>(load_be_padded(table, start + 36, 4));
      if (declared > kQcow2MaxSnapshotExtraData) discard_extra(scan.count, declared);
      scan.overhanging = h.nb_snapshots - scan.count;
      Line l;
      l.text("Discarding ").dec(scan.overhanging).text(" overhanging snapshots (snapshot table is too big)");
      log.line(l.span());
      break;
    }
    if (more.is_error()) return more.error();
    if (!more.value()) break;
    if (s.extra_truncated) discard_extra(scan.count, s.declared_extra_data_size);
    length = ((length + 7) & ~uint64_t{7}) + entry_length(s);
    scan.count++;
  }
  scan.old_length = reader.table_length();
  scan.new_length = length;
  scan.furthest_read = reader.furthest_read();
  if (h.version >= 3) {
    Qcow2SnapshotReader again(table, h.nb_snapshots, h.cluster_size(), h.snapshots_offset);
    again.set_repair(repair);
    for (uint32_t i = 0; i < scan.count; i++) {
      if (again.next(s).is_error()) break;  // read once already
      if (s.extra_data_size >= kV3MinimumExtra) continue;
      Line l;
      l.text(repair ? "Repairing" : "ERROR").text(" snapshot table entry ").dec(i).text(" is incomplete");
      log.line(l.span());
      scan.incomplete++;
    }
  }
  return scan;
}

Result<SnapshotTableImage> build_snapshot_table(ByteSpan table, const Header& h, Arena& scratch) {
  // Sizes first, as qemu computes them, with its limit.
  Qcow2SnapshotReader sizing = repair_reader(table, h);
  Qcow2Snapshot s{};
  uint64_t length = 0;
  size_t count = 0;
  for (;;) {
    auto more = sizing.next(s);
    if (more.is_error()) return more.error();
    if (!more.value()) break;
    length = ((length + 7) & ~uint64_t{7}) + entry_length(s);
    if (length > kQcow2MaxSnapshotTableBytes)
      return make_error(Errc::too_large, "the rewritten snapshot table would be too big");
    count++;
  }
  SnapshotTableImage image;
  if (count == 0) return image;
  INSTAR_TRY_ASSIGN(bytes, scratch.allocate(static_cast<size_t>(length)));
  INSTAR_TRY_ASSIGN(pieces, scratch.allocate_array<SnapshotTablePiece>(count));
  for (uint64_t i = 0; i < length; i++) bytes[i] = 0;

  Qcow2SnapshotReader reader = repair_reader(table, h);
  const uint64_t virtual_disk = h.size / 512 * 512;  // qemu's total_sectors * BDRV_SECTOR_SIZE
  uint64_t at = 0;
  size_t piece_count = 0;
  for (size_t n = 0; n < count; n++) {
    auto more = reader.next(s);
    if (more.is_error() || !more.value()) return make_error(Errc::invalid, "the snapshot table changed");
    at = (at + 7) & ~uint64_t{7};
    uint8_t* e = bytes + at;
    uint64_t extra = s.extra_data_size > kKnownExtra ? s.extra_data_size : kKnownExtra;
    store_be(e + 0, s.l1_table_offset, 8);
    store_be(e + 8, s.l1_size, 4);
    store_be(e + 12, s.id.size, 2);
    store_be(e + 14, s.name.size, 2);
    store_be(e + 16, s.date_sec, 4);
    store_be(e + 20, s.date_nsec, 4);
    store_be(e + 24, s.vm_clock_nsec, 8);
    // A VM state too large for 32 bits: 0 there, so older readers see a disk-only snapshot.
    store_be(e + 32, s.vm_state_size <= 0xffffffffull ? s.vm_state_size : 0, 4);
    store_be(e + 36, extra, 4);
    store_be(e + 40, s.vm_state_size, 8);
    store_be(e + 48, s.has_disk_size ? s.disk_size : virtual_disk, 8);
    store_be(e + 56, s.icount, 8);
    uint64_t p = kSnapshotHeaderSize + kKnownExtra;
    for (uint32_t k = 0; k < s.unknown_extra_size; k++)
      e[p + k] = static_cast<uint8_t>(load_be_padded(table, s.unknown_extra_at + k, 1));
    p += s.unknown_extra_size;
    for (size_t k = 0; k < s.id.size; k++) e[p + k] = s.id[k];
    p += s.id.size;
    for (size_t k = 0; k < s.name.size; k++) e[p + k] = s.name[k];
    p += s.name.size;
    if (p != kSnapshotHeaderSize + extra + s.id.size + s.name.size)
      return make_error(Errc::invalid, "a rewritten snapshot table entry has the wrong length");
    if (piece_count > 0 && pieces[piece_count - 1].at + pieces[piece_count - 1].length == at)
      pieces[piece_count - 1].length += p;
    else
      pieces[piece_count++] = SnapshotTablePiece{at, p};
    at += p;
  }
  if (at != length) return make_error(Errc::invalid, "the rewritten snapshot table has the wrong length");
  image.bytes = ByteSpan(bytes, static_cast<size_t>(length));
  image.pieces = pieces;
  image.piece_count = piece_count;
  return image;
}

Result<uint64_t> place_snapshot_table(uint64_t clusters, uint64_t limit, RefcountProbe& probe) {
  if (clusters == 0) return make_error(Errc::invalid, "an empty snapshot table is not placed");
  uint64_t run = 0;
  for (uint64_t i = 0; i < limit; i++) {
    uint64_t value = 0;
    if (!probe.refcount(i, value)) return make_error(Errc::io, "a refcount could not be read");
    run = value == 0 ? run + 1 : 0;
    if (run == clusters) return i + 1 - clusters;
  }
  return make_error(Errc::too_large, "no free clusters for the snapshot table within the limit");
}

}  // namespace instar::qcow2
