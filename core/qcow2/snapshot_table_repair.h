// snapshot_table_repair.h: qemu-img check's reading of the qcow2 snapshot table
// (qcow2_check_read_snapshot_table) and -r all's rewrite of it
// (qcow2_check_fix_snapshot_table, qcow2_write_snapshots), planned before
// anything is written. Pure: no I/O.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/qcow2/header.h"
#include "core/qcow2/refcount_check.h"

namespace instar::qcow2 {

// What the check-mode read of the table found.
struct SnapshotTableScan {
  uint32_t count = 0;          // the entries kept (all but the overhanging ones)
  uint32_t overhanging = 0;    // -r all: entries qemu discards, from the first past its limits on
  uint32_t extra_dropped = 0;  // -r all: entries whose extra data qemu cuts to 1024 bytes
  uint32_t incomplete = 0;     // v3 entries with less than 16 bytes of extra data
  uint64_t old_length = 0;     // qemu's snapshots_size: what the refcount check counts
  uint64_t new_length = 0;     // the table qemu's rewrite writes (0 for no entries)
  uint64_t furthest_read = 0;  // from the table's start: reads past the bytes given see zeros
  // The corruptions qemu counts for the table (and repairs, with -r all, by rewriting it).
  uint32_t corruptions() const { return extra_dropped + incomplete; }
};

// Reads the `h.nb_snapshots` entries of `table` (the bytes at h.snapshots_offset, clipped at the end of
// the file) as qemu's check does, `repair` for -r all, logging qemu's lines in its order: "Discarding too
// much extra metadata in snapshot table entry N (S > 1024)" as each entry is read (repair), "Discarding
// N overhanging snapshots (snapshot table is too big)" where an entry ends past qemu's limits (repair:
// that entry and the rest are dropped), then "ERROR|Repairing snapshot table entry N is incomplete"
// for v3 images. An error is the reader's (Qcow2SnapshotReader). Build the rewritten table with
// h.nb_snapshots = count.
Result<SnapshotTableScan> scan_snapshot_table(ByteSpan table, const Header& h, bool repair, CheckLog& log);

// A run of the new table's bytes that qemu writes (the padding between entries it skips).
struct SnapshotTablePiece {
  uint64_t at = 0;  // from the table's start
  uint64_t length = 0;
};

// The table qemu's qcow2_write_snapshots writes for the entries as read in repair mode: each entry
// 8-byte aligned, its fixed part, 24 bytes of the extra data qemu knows (the values it parsed), the
// unknown extra data it kept, id and name up to their first NUL.
struct SnapshotTableImage {
  ByteSpan bytes;  // scan.new_length bytes; padding is zero but not written
  const SnapshotTablePiece* pieces = nullptr;
  size_t piece_count = 0;
};

Result<SnapshotTableImage> build_snapshot_table(ByteSpan table, const Header& h, Arena& scratch);

// qemu's cluster allocator (alloc_clusters_noref from free_cluster_index 0): the first run of
// `clusters` clusters whose refcount is 0. The refcounts are asked for one at a time, in order.
class RefcountProbe {
 public:
  // false: the refcount could not be read (the placement fails).
  virtual bool refcount(uint64_t cluster, uint64_t& value) = 0;

 protected:
  ~RefcountProbe() = default;
};

// Fails beyond `limit` clusters.
Result<uint64_t> place_snapshot_table(uint64_t clusters, uint64_t limit, RefcountProbe& probe);

}  // namespace instar::qcow2
