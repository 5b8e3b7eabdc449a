// refcount_rebuild_plan.h: a new qcow2 refcount structure (refcount blocks and
// table) built from the counts a check made, as qemu-img check -r all builds
// it when the stored one cannot be repaired in place (qemu's
// rebuild_refcount_structure). Pure: no I/O. The plan says where every new
// block and the new table go, what they hold, how far the file grows, and
// which clusters are freed (discarded) once the old structure is dropped; the
// caller validates nothing itself and issues only what the plan holds.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/qcow2/refcount_repair_plan.h"

namespace instar::qcow2 {

// Counts by host cluster: 16-bit counters for refcount widths up to 16 bits, 32-bit above (one of
// the two pointers is set), as the check keeps them.
struct ClusterCounts {
  const uint16_t* narrow = nullptr;
  const uint32_t* wide = nullptr;
  uint64_t count = 0;  // clusters counted (qemu's nb_clusters)
  uint64_t at(uint64_t cluster) const {
    if (cluster >= count) return 0;
    return narrow != nullptr ? narrow[cluster] : wide[cluster];
  }
};

struct RebuildLayout {
  uint32_t cluster_bits = 16;   // 9..21
  uint32_t refcount_order = 4;  // 0..6
  uint64_t file_size = 0;       // before the rebuild
  // The old refcount table (big-endian entries): qemu refuses to write a new block or table over
  // the cluster an old entry names (its metadata overlap check), and fails the rebuild.
  ByteSpan old_table;
};

// One new refcount block: entry `index` of the new table, at `offset`.
struct RebuildBlock {
  uint64_t index = 0;
  uint64_t offset = 0;
};

struct RebuildPlan {
  uint32_t cluster_bits = 16;
  uint32_t refcount_order = 4;
  // The counts the new blocks hold (qemu's in-memory array once the new structure's clusters are
  // allocated in it; finish_refcount_rebuild then lowers the leaks as qemu's repair does).
  uint16_t* narrow = nullptr;
  uint32_t* wide = nullptr;
  uint64_t cluster_count = 0;
  // In increasing index order; each is written whole (one cluster).
  const RebuildBlock* blocks = nullptr;
  size_t block_count = 0;
  uint64_t table_offset = 0;   // the new refcount table, cluster aligned
  uint64_t table_entries = 0;  // a whole number of clusters of entries
  uint32_t table_clusters = 0;
  // Clusters set aside for the new structure, by qemu's allocation, in order: the blocks, and each
  // table qemu allocated (a table it outgrew stays allocated, then is freed as a leak).
  const uint64_t* allocated = nullptr;
  size_t allocated_count = 0;
  uint64_t file_size = 0;  // after the writes: the file grows only to take in new clusters
  // qemu's very first write (the first block) lands where an old table entry points: its overlap
  // check fails the rebuild before anything is written. Nothing of the plan is to be issued.
  bool first_write_overlaps = false;
  // Filled by finish_refcount_rebuild: runs of clusters whose count dropped to 0 (qemu punches them).
  const RepairDiscard* discards = nullptr;
  size_t discard_count = 0;
  // And the counts it lowered: `refcount` is the count before (qemu's "Repairing cluster" lines).
  const RefcountFix* lowered = nullptr;
  size_t lowered_count = 0;

  uint64_t count_at(uint64_t cluster) const {
    if (cluster >= cluster_count) return 0;
    return narrow != nullptr ? narrow[cluster] : wide[cluster];
  }
};

// Allocates the new structure in a copy of `counts` as qemu does: first the
// blocks, each at the first free cluster from the start of the range it
// covers, then the table at the first run of free clusters, again if the table
// had to grow. Fails when the counts do not fit the refcount width, the new
// structure would be larger than qemu's limits, or a later write of the new
// structure would land where an old table entry points (qemu's overlap check
// stops its rebuild there, half done: not reproduced). When the very first
// write would, the plan says so (first_write_overlaps) and holds no writes to issue.
Result<RebuildPlan> plan_refcount_rebuild(const RebuildLayout& layout, const ClusterCounts& counts, Arena& scratch);

// After the rebuild qemu counts the references again (`recount`: the old
// structure no longer referenced, the new one referenced once) and lowers
// every count above it, freeing what drops to 0. Fails, planning nothing,
// when a count is below the recount (qemu's "rebuilt refcount structure is
// still broken"), or when the result would not be a consistent structure:
// every allocated cluster counted nowhere before (clear of all the image
// references) and inside the planned file size, every new block and the new
// table referenced exactly once now, every counted cluster covered by a new
// block, every discard inside the file.
Result<void> finish_refcount_rebuild(RebuildPlan& plan, const ClusterCounts& original, const ClusterCounts& recount,
                                     Arena& scratch);

// qemu's leak repair after a rebuild of an image it disabled (marked corrupt during the check) changes
// only its refcount cache, which is never written back, while its punches reach the file: the new
// blocks keep the counts from before the repair. Puts back every count finish_refcount_rebuild lowered
// (the discards stay). Call it once, after the check is done with the lowered counts.
void restore_lowered_counts(RebuildPlan& plan);

// The `cluster_size` bytes of new block `block` (on-disk encoding of the plan's counts).
void encode_rebuild_block(const RebuildPlan& plan, const RebuildBlock& block, uint8_t* out);

// Table cluster `n` (0 .. table_clusters - 1) of the new refcount table.
void encode_rebuild_table(const RebuildPlan& plan, uint64_t n, uint8_t* out);

// The 12 header bytes at offset 48: refcount_table_offset and refcount_table_clusters.
inline constexpr uint64_t kRefcountTableFieldsOffset = 48;
void encode_rebuild_header_fields(const RebuildPlan& plan, uint8_t out[12]);

}  // namespace instar::qcow2
