// refcount_copied_plan.h: the writes that repair OFLAG_COPIED (qemu-img check
// -r all, and -r leaks when the refcounts are clean after their repair): bit 63
// of an L1 or L2 entry set where the refcount is 1, cleared where it is not.
// Pure, like refcount_repair_plan.h: planned and validated before any write.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/qcow2/refcount_repair_plan.h"

namespace instar::qcow2 {

// Entry `l1_index` of the active L1 table gets OFLAG_COPIED set or cleared.
struct L1CopiedFix {
  uint64_t l1_index = 0;
  bool copied = false;
};

// Entry `l2_index` of the L2 table that active L1 entry `l1_index` names.
struct L2CopiedFix {
  uint64_t l1_index = 0;
  uint64_t l2_index = 0;
  bool copied = false;
};

struct CopiedLayout {
  uint32_t cluster_bits = 16;  // 9..21
  bool extended_l2 = false;    // 16-byte L2 entries (the flag is in the first 8)
  uint64_t file_size = 0;
  uint64_t l1_table_offset = 0;
  ByteSpan l1_table;  // the active L1 table as read, big-endian entries
  // Metadata no L1 or L2 write may touch (header, refcount table, snapshot table).
  const ProtectedRange* protected_ranges = nullptr;
  size_t protected_count = 0;
  // The refcount repair issued with it: its refcount blocks and discards are no table to write.
  const RepairPlan* refcount_plan = nullptr;
};

// Sets (copied) or clears OFLAG_COPIED, the top bit of the entry's first byte at `offset`.
struct CopiedWrite {
  uint64_t offset = 0;
  bool copied = false;
};

struct CopiedPlan {
  const CopiedWrite* writes = nullptr;
  size_t write_count = 0;
  // Each span lies in one table: the L1 table (at most a cluster a span) or one L2 table.
  const RepairSpan* spans = nullptr;
  size_t span_count = 0;
};

// Plans the writes for `l1_fixes` (strictly increasing l1_index) and
// `l2_fixes` (increasing l1_index, then strictly increasing l2_index). Fails,
// planning nothing, when any cannot be done in place: an index outside its
// table, an L1 entry naming no L2 table or an unaligned one, a table not wholly
// inside the file or overlapping other metadata, the refcount repair's blocks or
// discards. An L2 table that several L1 entries name is repaired on qemu's
// first visit (it writes the table back and re-reads it, repaired, on later
// visits): its fixes must all come under the first L1 entry naming it.
Result<CopiedPlan> plan_copied_repair(const CopiedLayout& layout, const L1CopiedFix* l1_fixes,
                                      size_t l1_count, const L2CopiedFix* l2_fixes, size_t l2_count,
                                      Arena& scratch);

// The L2 tables the active L1 table (big-endian entries) names more than once, sorted and unique.
struct SharedL2Tables {
  const uint64_t* offsets = nullptr;
  size_t count = 0;
  // The position of `offset` in `offsets`, or `count` when it is not shared.
  size_t find(uint64_t offset) const;
};
Result<SharedL2Tables> find_shared_l2_tables(ByteSpan l1_table, Arena& scratch);

// Applies the writes of `span` to `bytes` (the span's `length` bytes as read).
SpanChange apply_copied_span(const CopiedPlan& plan, const RepairSpan& span, uint8_t* bytes);

}  // namespace instar::qcow2
