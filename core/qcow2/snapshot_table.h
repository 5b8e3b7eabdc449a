// snapshot_table.h: the qcow2 internal snapshot table, read entry by entry as qemu opens it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"
#include "core/base/padded.h"
#include "core/base/result.h"

namespace instar {

inline constexpr uint32_t kQcow2MaxSnapshotExtraData = 1024;  // QCOW_MAX_SNAPSHOT_EXTRA_DATA
inline constexpr uint64_t kQcow2MaxSnapshotTableBytes = 64ull << 20;
struct Qcow2Snapshot {
  uint64_t l1_table_offset;
  uint32_t l1_size;
  ByteSpan id;    // into the table bytes, cut at the first NUL (qemu keeps C strings)
  ByteSpan name;  // likewise
  uint32_t date_sec;
  uint32_t date_nsec;
  uint64_t vm_clock_nsec;
  uint64_t vm_state_size;  // the 32-bit field, or the 64-bit one from extra data when present
  uint64_t disk_size;      // from extra data; without it qemu uses the image's virtual size
  bool has_disk_size;
  uint64_t icount;  // UINT64_MAX when absent; qemu treats -1 as absent
  bool has_icount;
  uint32_t extra_data_size;  // in repair mode, at most kQcow2MaxSnapshotExtraData
  // The extra data past the fields qemu knows, kept as qemu keeps it: `unknown_extra_size` bytes at
  // `unknown_extra_at` (from the table's start; past the bytes read they are zeros).
  uint64_t unknown_extra_at;
  uint32_t unknown_extra_size;
  uint32_t declared_extra_data_size;  // the entry's own field
  bool extra_truncated;  // repair mode: qemu dropped the extra data past kQcow2MaxSnapshotExtraData
};

// Reads nb_snapshots entries from `table`, the bytes at the (cluster-aligned) table_offset, the
// header's snapshots_offset. The caller reads at most kQcow2MaxSnapshotTableBytes, clipped to the end
// of the file: bytes past the end of `table` read as zero, as qemu's reads past the end of the file
// do. Each entry is checked as qemu's qcow2_read_snapshots does when opening:
//   "Too much extra metadata in snapshot table entry {}" (+ qemu's hint line),
//   "Snapshot table is too big" (+ the hint "... all {} overhanging snapshots ..."),
//   "Failed to read snapshot table: Input/output error" (a read reaching past kQemuMaxIoOffset).
// qemu reads the whole table before using any entry: drain next() (or call validate()) first.
// Whether an error of Qcow2SnapshotReader::next() or validate() is one qemu's `check -r all` repairs by
// rewriting the table (too much extra data in an entry, overhanging snapshots: its message says so). They
// are the reader's only too_large errors; the others are read errors.
inline bool qcow2_snapshot_error_repairable(const Error& error) { return error.code == Errc::too_large; }

class Qcow2SnapshotReader {
 public:
  Qcow2SnapshotReader(ByteSpan table, uint32_t nb_snapshots, uint64_t cluster_size, uint64_t table_offset = 0)
      : table_(table),
        nb_snapshots_(nb_snapshots),
        cluster_size_(cluster_size),
        table_offset_(table_offset) {}

  // true with `out` filled, false after the last entry; an error repeats on every later call.
  Result<bool> next(Qcow2Snapshot& out);
  // Runs a copy of this reader to the end.
  Result<void> validate() const;

  // qemu's read with `repair` (check -r all): an entry with too much extra data is kept with its extra
  // data cut to kQcow2MaxSnapshotExtraData (extra_truncated), the next entry still starting after the
  // whole of it. "Snapshot table is too big" then means qemu discards the entries from there on.
  void set_repair(bool repair) { repair_ = repair; }
  // The end of the furthest byte read so far, from the table's start (past table.size: zeros).
  uint64_t furthest_read() const { return furthest_; }

  uint32_t entries_read() const { return index_; }
  // Bytes the entries read so far span (qemu's snapshots_size once all are read; with extra data
  // dropped in repair mode, still the whole of it).
  uint64_t table_length() const { return length_; }

  // The L1 check qemu makes before it uses a snapshot's L1 table (snapshot -a/-d, convert -l,
  // amend to compat=0.10), not when opening: "Snapshot L1 table too large" /
  // "Snapshot L1 table offset invalid".
  Result<void> validate_l1(const Qcow2Snapshot& snapshot) const;

 private:
  bool readable(uint64_t position, uint64_t length) const;
  Result<bool> fail(Error error);
  void note_read(uint64_t end);

  ByteSpan table_;
  uint32_t nb_snapshots_;
  uint64_t cluster_size_;
  uint64_t table_offset_;
  uint32_t index_ = 0;
  uint64_t length_ = 0;
  uint64_t trimmed_length_ = 0;  // qemu's table_length: the entries with their extra data as kept
  uint64_t furthest_ = 0;
  bool repair_ = false;
  bool failed_ = false;
  Error error_{};
};

}  // namespace instar
