// refcount_check.h: qemu's qcow2 consistency check, read-only: count every
// reference the metadata makes to each host cluster and compare with the
// stored refcounts (qemu's qcow2_check_refcounts without repair).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/io/block_device.h"
#include "core/qcow2/header.h"
#include "core/qcow2/refcount_check_patches.h"
#include "core/qcow2/refcount_copied_plan.h"
#include "core/qcow2/refcount_rebuild_plan.h"
#include "core/qcow2/refcount_repair_plan.h"

namespace instar::qcow2 {

// qemu's BdrvCheckResult: the counters qemu-img check prints.
struct CheckCounts {
  uint64_t check_errors = 0;
  uint64_t corruptions = 0;
  uint64_t leaks = 0;
  uint64_t total_clusters = 0;
  uint64_t allocated_clusters = 0;
  uint64_t fragmented_clusters = 0;
  uint64_t compressed_clusters = 0;
  uint64_t image_end_offset = 0;
  uint64_t leaks_fixed = 0;        // -r: refcounts lowered to the references found
  uint64_t corruptions_fixed = 0;  // -r all: refcounts raised to the references found
};

// The errno values a failed check reports ("Check failed: <strerror>").
inline constexpr int kCheckEio = 5;
inline constexpr int kCheckEnomem = 12;
inline constexpr int kCheckEinval = 22;
inline constexpr int kCheckEfbig = 27;

// Where the lines qemu prints while it checks go, in order.
class CheckLog {
 public:
  // A line qemu writes with fprintf(stderr) (no program name), without its newline.
  virtual void line(ByteSpan text) = 0;
  // A line qemu writes with error_report() ("<program>: " in front), without its newline.
  virtual void error_line(ByteSpan text) = 0;

 protected:
  ~CheckLog() = default;
};

// -r all: qemu truncates the file larger to take in a refcount block outside it. The image device
// then reads as that long (zeros past the old end); the file itself grows when the repair is issued.
class FileGrowth {
 public:
  virtual void grow(uint64_t size) = 0;

 protected:
  ~FileGrowth() = default;
};

// What the check needs from the opened image.
struct CheckInput {
  const Header* header = nullptr;
  const Extensions* ext = nullptr;
  bool has_data_file = false;
  // The snapshot table bytes as read (clipped at the end of the file), re-read in check mode.
  ByteSpan snapshot_table;
  // -r: kRepairLeaks and/or kRepairErrors (qemu's BDRV_FIX_LEAKS, BDRV_FIX_ERRORS); 0 checks only.
  uint8_t repair = 0;
  FileGrowth* growth = nullptr;  // -r all only
  // -r all: qemu rewrites the snapshot table after the refcount repair (snapshot_table_repair.h):
  // the new table's length (0: no rewrite) and the old one's, whose clusters it frees.
  uint64_t snapshot_rewrite_length = 0;
  uint64_t snapshot_old_length = 0;
};

// What a check with repair decided. Nothing is written by the check itself:
// the caller issues `plan` once the check returned 0.
struct RepairResult {
  const char* refused = nullptr;  // a repair qemu would do that instar does not (nothing is planned)
  RepairPlan plan;
  CopiedPlan copied;  // the OFLAG_COPIED repair, issued after `plan` (they touch different bytes)
  // -r all: a new refcount structure (issued first: blocks, table, header fields), whose freed
  // clusters are `plan`'s discards. The file grows to rebuild.file_size.
  bool has_rebuild = false;
  RebuildPlan rebuild;
  // qemu truncated the file to this size first (a refcount block outside it); 0 if not.
  uint64_t truncated_size = 0;
  // qemu marked the image corrupt (a fatal corruption event on the image -r opened read-write): the
  // header's corrupt bit is set whatever the check's outcome.
  bool mark_corrupt = false;
  // -r all rebuilt the structure of an image qemu marked corrupt during the check (which disables it):
  // the leak repair after the rebuild is lost but for its punches (issue the plan after
  // restore_lowered_counts), and qemu-img's check after the repair fails with ENOMEDIUM.
  bool image_disabled = false;
  // -r all: L2 entries of unaligned preallocated zero clusters rewritten as plain zero clusters while
  // the check counted (qemu writes each at once): issued first.
  const L2EntryPatch* zeroed = nullptr;
  size_t zeroed_count = 0;
  // -r all: the rewritten snapshot table goes to snapshot_table_offset (the caller writes it, then
  // snapshot_refcounts: its clusters' refcounts set to 1, the old table's lowered and punched, then
  // the header's nb_snapshots and snapshots_offset), after `plan` and `copied`.
  bool has_snapshot_move = false;
  uint64_t snapshot_table_offset = 0;
  RepairPlan snapshot_refcounts;
  // The references counted, by cluster, once the check completed: the refcounts a repair that
  // leaves nothing to fix stores (qemu's allocator then sees them; the bitmap store plans on them).
  ClusterCounts counted;
};

// check_refcounts() returns this when `RepairResult::refused` is set.
inline constexpr int kCheckRepairRefusedCode = -1;

// Runs the check. Returns 0, or the errno of a check that could not complete
// (qemu then prints "Check failed: ..." and no summary), or
// kCheckRepairRefusedCode. `counts` holds what was found either way. With
// `input.repair`, qemu's repair decisions are made and logged as qemu logs
// them, and the refcount writes are planned into `repair` (never issued
// here). Memory: one counter per host cluster of the file (2 bytes for
// refcount widths up to 16 bits, 4 above) plus a few clusters.
int check_refcounts(BlockDevice& image, const CheckInput& input, Arena& scratch, CheckLog& log,
                    CheckCounts& counts, RepairResult* repair = nullptr);

}  // namespace instar::qcow2
