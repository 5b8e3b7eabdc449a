// refcount_repair_plan.h: the writes that repair qcow2 refcounts (qemu-img
// check -r), planned before any is issued. Pure: no I/O, so the whole plan is
// validated first and a fuzz target can check it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"

namespace instar::qcow2 {

// One stored refcount to replace: host cluster `cluster` gets `refcount`.
struct RefcountFix {
  uint64_t cluster = 0;
  uint64_t refcount = 0;
};

// A byte range of the file that no repair write may touch (header, tables).
struct ProtectedRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Whether [a, a + a_length) and [b, b + b_length) share a byte (no overflow).
inline bool ranges_overlap(uint64_t a, uint64_t a_length, uint64_t b, uint64_t b_length) {
  if (a_length == 0 || b_length == 0) return false;
  return (a < b || a - b < b_length) && (b < a || b - a < a_length);
}

// What the planner knows about the image.
struct RepairLayout {
  uint32_t cluster_bits = 16;   // 9..21
  uint32_t refcount_order = 4;  // 0..6
  uint64_t file_size = 0;
  ByteSpan refcount_table;  // the table as read, big-endian entries
  const ProtectedRange* protected_ranges = nullptr;
  size_t protected_count = 0;
};

// Replaces the `bits` bits at `shift` of the `length` big-endian bytes at
// `offset` with `value` (refcount widths below 8 bits share a byte; wider
// entries are whole: shift 0, bits = 8 * length).
struct RefcountWrite {
  uint64_t offset = 0;
  uint64_t value = 0;
  uint64_t block_offset = 0;  // the refcount block the entry lies in
  uint8_t length = 0;         // 1, 2, 4 or 8
  uint8_t shift = 0;
  uint8_t bits = 0;
};

// Clusters whose refcount drops to 0: qemu discards them (the file gets a
// hole). Adjacent freed clusters make one range.
struct RepairDiscard {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// The bytes of one refcount block that a run of consecutive writes
// (writes[first_write .. first_write + write_count)) changes: read once,
// changed in memory, written back once, so a repair costs two I/Os a block
// rather than two an entry. The range runs from the first write's first byte
// to the last write's last byte, inside the block.
struct RepairSpan {
  uint64_t offset = 0;
  uint64_t length = 0;
  size_t first_write = 0;
  size_t write_count = 0;
};

struct RepairPlan {
  const RefcountWrite* writes = nullptr;
  size_t write_count = 0;
  const RepairSpan* spans = nullptr;
  size_t span_count = 0;
  const RepairDiscard* discards = nullptr;
  size_t discard_count = 0;
};

// Plans the writes for `fixes` (strictly increasing clusters). Fails, planning
// nothing, when any fix cannot be done in place: no or a broken refcount block
// for it, a block not wholly inside the file or overlapping a protected range,
// a value too wide for the refcount width, or a discard that would touch
// metadata. Every write lands inside a refcount block the table names.
Result<RepairPlan> plan_refcount_repair(const RepairLayout& layout, const RefcountFix* fixes,
                                        size_t fix_count, Arena& scratch);

// Sets the bits a write describes in `bytes` (its `length` bytes as read).
void apply_refcount_write(const RefcountWrite& write, uint8_t* bytes);

// Which of a span's bytes its writes changed: [begin, end) from the span's
// start, from the first changed byte to the last (empty when none changed).
struct SpanChange {
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Applies the writes of `span` to `bytes` (the span's `length` bytes as read)
// and says which bytes changed: only those need writing back.
SpanChange apply_repair_span(const RepairPlan& plan, const RepairSpan& span, uint8_t* bytes);

}  // namespace instar::qcow2
