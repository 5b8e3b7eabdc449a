// refcount_repair_plan.cc: from the refcounts a check found wrong to the bytes
// that replace them, validating every refcount block before anything is written.
#include "core/qcow2/refcount_repair_plan.h"

#include "core/base/checked.h"
#include "core/base/span_reader.h"

namespace instar::qcow2 {

namespace {

constexpr uint64_t kTableOffsetMask = 0xfffffffffffffe00ull;
constexpr uint64_t kTableReservedMask = 0x1ffull;

bool touches_protected(const RepairLayout& layout, uint64_t offset, uint64_t length) {
  for (size_t i = 0; i < layout.protected_count; i++) {
    const ProtectedRange& r = layout.protected_ranges[i];
    if (ranges_overlap(offset, length, r.offset, r.length)) return true;
  }
  return false;
}

}  // namespace

Result<RepairPlan> plan_refcount_repair(const RepairLayout& layout, const RefcountFix* fixes,
                                        size_t fix_count, Arena& scratch) {
  if (layout.cluster_bits < 9 || layout.cluster_bits > 21 || layout.refcount_order > 6)
    return make_error(Errc::invalid, "the image's cluster size or refcount width cannot be repaired");
  const uint64_t cluster_size = uint64_t{1} << layout.cluster_bits;
  const uint32_t block_bits = layout.cluster_bits + 3 - layout.refcount_order;
  const uint64_t width = uint64_t{1} << layout.refcount_order;
  const uint64_t max_value = width == 64 ? UINT64_MAX : (uint64_t{1} << width) - 1;
  const uint64_t table_entries = layout.refcount_table.size / 8;

  RepairPlan plan;
  if (fix_count == 0) return plan;
  INSTAR_TRY_ASSIGN(writes, scratch.allocate_array<RefcountWrite>(fix_count));
  INSTAR_TRY_ASSIGN(discards, scratch.allocate_array<RepairDiscard>(fix_count));
  INSTAR_TRY_ASSIGN(spans, scratch.allocate_array<RepairSpan>(fix_count));
  size_t write_count = 0, discard_count = 0, span_count = 0;

  for (size_t i = 0; i < fix_count; i++) {
    const RefcountFix& fix = fixes[i];
    if (i > 0 && fix.cluster <= fixes[i - 1].cluster)
      return make_error(Errc::invalid, "refcount repairs out of order");
    if (fix.refcount > max_value)
      return make_error(Errc::invalid, "repaired refcount does not fit the refcount width");
    uint64_t table_index = fix.cluster >> block_bits;
    if (table_index >= table_entries)
      return make_error(Errc::invalid, "no refcount block covers a cluster to repair");
    uint64_t raw = load_be(layout.refcount_table, static_cast<size_t>(table_index * 8), 8);
    uint64_t block = raw & kTableOffsetMask;
    if ((raw & kTableReservedMask) != 0 || block == 0 || !is_aligned(block, cluster_size))
      return make_error(Errc::invalid, "the refcount block of a cluster to repair is missing or misaligned");
    // qemu writes the whole block back: it must lie inside the file, clear of the header and tables.
    if (block < cluster_size || block > layout.file_size || layout.file_size - block < cluster_size)
      return make_error(Errc::invalid, "the refcount block of a cluster to repair is not inside the file");
    if (touches_protected(layout, block, cluster_size))
      return make_error(Errc::invalid, "the refcount block of a cluster to repair overlaps other metadata");

    uint64_t index = fix.cluster & ((uint64_t{1} << block_bits) - 1);
    uint64_t bit = index << layout.refcount_order;  // < cluster_size * 8
    RefcountWrite w;
    w.block_offset = block;
    w.value = fix.refcount;
    if (width < 8) {
      w.offset = block + bit / 8;
      w.length = 1;
      w.shift = static_cast<uint8_t>(bit % 8);
      w.bits = static_cast<uint8_t>(width);
    } else {
      w.offset = block + bit / 8;
      w.length = static_cast<uint8_t>(width / 8);
      w.shift = 0;
      w.bits = static_cast<uint8_t>(width);
    }
    writes[write_count++] = w;

    if (fix.refcount == 0) {
      // A cluster that nothing references any more: qemu discards it (within the file).
      INSTAR_TRY_ASSIGN(start, checked_mul(fix.cluster, cluster_size));
      if (start >= layout.file_size)
        return make_error(Errc::invalid, "a cluster to free lies past the end of the file");
      uint64_t length = layout.file_size - start < cluster_size ? layout.file_size - start : cluster_size;
      if (start < cluster_size || touches_protected(layout, start, length))
        return make_error(Errc::invalid, "a cluster to free holds metadata");
      discards[discard_count++] = RepairDiscard{start, length};
    }
  }
  // No freed cluster may be a refcount block that is written (discards are in offset order).
  for (size_t w = 0; w < write_count; w++) {
    size_t low = 0, high = discard_count;
    while (low < high) {
      size_t mid = low + (high - low) / 2;
      if (discards[mid].offset < writes[w].block_offset)
        low = mid + 1;
      else
        high = mid;
    }
    if (low < discard_count && discards[low].offset == writes[w].block_offset)
      return make_error(Errc::invalid, "a cluster to free is a refcount block");
  }
  // Consecutive writes into one block make one span (clusters rise, so their entries do within a block).
  for (size_t w = 0; w < write_count; w++) {
    const RefcountWrite& write = writes[w];
    if (span_count > 0) {
      RepairSpan& last = spans[span_count - 1];
      const RefcountWrite& previous = writes[w - 1];
      if (previous.block_offset == write.block_offset && write.offset >= last.offset) {
        uint64_t end = write.offset + write.length;  // inside the block: no overflow
        if (end > last.offset + last.length) last.length = end - last.offset;
        last.write_count++;
        continue;
      }
    }
    spans[span_count++] = RepairSpan{write.offset, write.length, w, 1};
  }
  // Adjacent freed clusters make one discard.
  size_t merged = 0;
  for (size_t d = 0; d < discard_count; d++) {
    if (merged > 0 && discards[merged - 1].offset + discards[merged - 1].length == discards[d].offset) {
      discards[merged - 1].length += discards[d].length;
      continue;
    }
    discards[merged++] = discards[d];
  }
  discard_count = merged;
  plan.writes = writes;
  plan.write_count = write_count;
  plan.spans = spans;
  plan.span_count = span_count;
  plan.discards = discards;
  plan.discard_count = discard_count;
  return plan;
}

void apply_refcount_write(const RefcountWrite& write, uint8_t* bytes) {
  if (write.bits < 8) {
    uint8_t mask = static_cast<uint8_t>(((1u << write.bits) - 1) << write.shift);
    bytes[0] = static_cast<uint8_t>((bytes[0] & ~mask) | ((write.value << write.shift) & mask));
    return;
  }
  for (size_t i = 0; i < write.length; i++)
    bytes[i] = static_cast<uint8_t>(write.value >> (8 * (write.length - 1 - i)));
}

SpanChange apply_repair_span(const RepairPlan& plan, const RepairSpan& span, uint8_t* bytes) {
  SpanChange change;
  for (size_t i = 0; i < span.write_count; i++) {
    const RefcountWrite& w = plan.writes[span.first_write + i];
    uint64_t at = w.offset - span.offset;
    uint8_t before[8];
    for (size_t b = 0; b < w.length; b++) before[b] = bytes[at + b];
    apply_refcount_write(w, bytes + at);
    for (size_t b = 0; b < w.length; b++) {
      if (bytes[at + b] == before[b]) continue;
      if (change.end == change.begin) {
        change.begin = at + b;
        change.end = at + b + 1;
      } else {
        if (at + b < change.begin) change.begin = at + b;
        if (at + b + 1 > change.end) change.end = at + b + 1;
      }
    }
  }
  return change;
}

}  // namespace instar::qcow2
