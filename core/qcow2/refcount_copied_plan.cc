// refcount_copied_plan.cc: from the L1 and L2 entries whose OFLAG_COPIED
// disagrees with the repaired refcounts to the bytes that fix them, validating
// every table before anything is written.
#include "core/qcow2/refcount_copied_plan.h"

#include "core/base/checked.h"
#include "core/base/span_reader.h"

namespace instar::qcow2 {

namespace {

constexpr uint64_t kL1OffsetMask = 0x00fffffffffffe00ull;

// Whether [offset, offset + length) is clear of the protected ranges and of what the refcount repair
// writes or discards.
bool clear_of_metadata(const CopiedLayout& layout, uint64_t offset, uint64_t length) {
  for (size_t i = 0; i < layout.protected_count; i++) {
    const ProtectedRange& r = layout.protected_ranges[i];
    if (ranges_overlap(offset, length, r.offset, r.length)) return false;
  }
  const RepairPlan* plan = layout.refcount_plan;
  if (plan == nullptr) return true;
  const uint64_t cluster_size = uint64_t{1} << layout.cluster_bits;
  for (size_t i = 0; i < plan->span_count; i++) {
    uint64_t block = plan->writes[plan->spans[i].first_write].block_offset;
    if (ranges_overlap(offset, length, block, cluster_size)) return false;
  }
  // Discards are in offset order and apart: only the last one starting before the range's end can meet it.
  size_t low = 0, high = plan->discard_count;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    if (plan->discards[mid].offset - offset < length || plan->discards[mid].offset < offset)
      low = mid + 1;
    else
      high = mid;
  }
  return low == 0 ||
         !ranges_overlap(offset, length, plan->discards[low - 1].offset, plan->discards[low - 1].length);
}

void sift_down(uint64_t* v, size_t root, size_t count) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= count) return;
    if (child + 1 < count && v[child + 1] > v[child]) child++;
    if (v[root] >= v[child]) return;
    uint64_t t = v[root];
    v[root] = v[child];
    v[child] = t;
    root = child;
  }
}

void heap_sort(uint64_t* v, size_t count) {
  for (size_t i = count / 2; i-- > 0;) sift_down(v, i, count);
  for (size_t end = count; end > 1; end--) {
    uint64_t t = v[0];
    v[0] = v[end - 1];
    v[end - 1] = t;
    sift_down(v, 0, end - 1);
  }
}

// The position of `value` in the sorted `v`, or `count`.
size_t sorted_find(const uint64_t* v, size_t count, uint64_t value) {
  size_t low = 0, high = count;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    if (v[mid] < value)
      low = mid + 1;
    else
      high = mid;
  }
  return low < count && v[low] == value ? low : count;
}

}  // namespace

size_t SharedL2Tables::find(uint64_t offset) const { return sorted_find(offsets, count, offset); }

Result<SharedL2Tables> find_shared_l2_tables(ByteSpan l1_table, Arena& scratch) {
  const size_t entries = l1_table.size / 8;
  SharedL2Tables shared;
  if (entries < 2) return shared;
  INSTAR_TRY_ASSIGN(all, scratch.allocate_array<uint64_t>(entries));
  size_t n = 0;
  for (size_t e = 0; e < entries; e++) {
    uint64_t table = load_be(l1_table, e * 8, 8) & kL1OffsetMask;
    if (table != 0) all[n++] = table;
  }
  heap_sort(all, n);
  size_t count = 0;  // duplicates compacted in place, once each
  for (size_t i = 1; i < n; i++) {
    if (all[i] == all[i - 1] && (count == 0 || all[count - 1] != all[i])) all[count++] = all[i];
  }
  shared.offsets = all;
  shared.count = count;
  return shared;
}

Result<CopiedPlan> plan_copied_repair(const CopiedLayout& layout, const L1CopiedFix* l1_fixes,
                                      size_t l1_count, const L2CopiedFix* l2_fixes, size_t l2_count,
                                      Arena& scratch) {
  if (layout.cluster_bits < 9 || layout.cluster_bits > 21)
    return make_error(Errc::invalid, "the image's cluster size cannot be repaired");
  const uint64_t cluster_size = uint64_t{1} << layout.cluster_bits;
  const uint64_t entry_size = layout.extended_l2 ? 16 : 8;
  const uint64_t l1_entries = layout.l1_table.size / 8;
  const uint64_t l1_bytes = l1_entries * 8;

  CopiedPlan plan;
  if (l1_count == 0 && l2_count == 0) return plan;
  // The L1 table: wholly inside the file and clear of other metadata.
  if (layout.l1_table_offset > layout.file_size || layout.file_size - layout.l1_table_offset < l1_bytes)
    return make_error(Errc::invalid, "the L1 table is not inside the file");
  if (!clear_of_metadata(layout, layout.l1_table_offset, l1_bytes))
    return make_error(Errc::invalid, "the L1 table overlaps other metadata");

  INSTAR_TRY_ASSIGN(total, checked_add(l1_count, l2_count));
  INSTAR_TRY_ASSIGN(writes, scratch.allocate_array<CopiedWrite>(total));
  INSTAR_TRY_ASSIGN(spans, scratch.allocate_array<RepairSpan>(total));
  INSTAR_TRY_ASSIGN(tables, scratch.allocate_array<uint64_t>(l2_count));
  size_t write_count = 0, span_count = 0, table_count = 0;

  // L1 entries: consecutive ones share a span while it stays within a cluster.
  for (size_t i = 0; i < l1_count; i++) {
    const L1CopiedFix& fix = l1_fixes[i];
    if (i > 0 && fix.l1_index <= l1_fixes[i - 1].l1_index)
      return make_error(Errc::invalid, "OFLAG_COPIED repairs out of order");
    if (fix.l1_index >= l1_entries)
      return make_error(Errc::invalid, "an L1 entry to repair is outside the L1 table");
    uint64_t offset = layout.l1_table_offset + fix.l1_index * 8;  // inside the file: no overflow
    writes[write_count] = CopiedWrite{offset, fix.copied};
    if (i > 0 && offset + 1 - spans[span_count - 1].offset <= cluster_size) {
      spans[span_count - 1].length = offset + 1 - spans[span_count - 1].offset;
      spans[span_count - 1].write_count++;
    } else {
      spans[span_count++] = RepairSpan{offset, 1, write_count, 1};
    }
    write_count++;
  }

  // L2 entries: one span per table.
  for (size_t i = 0; i < l2_count; i++) {
    const L2CopiedFix& fix = l2_fixes[i];
    bool same_table = i > 0 && fix.l1_index == l2_fixes[i - 1].l1_index;
    if (i > 0 &&
        (fix.l1_index < l2_fixes[i - 1].l1_index || (same_table && fix.l2_index <= l2_fixes[i - 1].l2_index)))
      return make_error(Errc::invalid, "OFLAG_COPIED repairs out of order");
    if (fix.l1_index >= l1_entries)
      return make_error(Errc::invalid, "an L2 table to repair is not in the L1 table");
    if (fix.l2_index >= cluster_size / entry_size)
      return make_error(Errc::invalid, "an L2 entry to repair is outside its table");
    uint64_t table = load_be(layout.l1_table, static_cast<size_t>(fix.l1_index * 8), 8) & kL1OffsetMask;
    if (!same_table) {
      if (table == 0 || !is_aligned(table, cluster_size))
        return make_error(Errc::invalid, "an L2 table to repair is missing or misaligned");
      // qemu writes the whole table back: it must lie inside the file, clear of all other metadata.
      if (table > layout.file_size || layout.file_size - table < cluster_size)
        return make_error(Errc::invalid, "an L2 table to repair is not inside the file");
      if (!clear_of_metadata(layout, table, cluster_size) ||
          ranges_overlap(table, cluster_size, layout.l1_table_offset, l1_bytes))
        return make_error(Errc::invalid, "an L2 table to repair overlaps other metadata");
      tables[table_count++] = table;
    }
    uint64_t offset = table + fix.l2_index * entry_size;
    writes[write_count] = CopiedWrite{offset, fix.copied};
    if (same_table) {
      spans[span_count - 1].length = offset + 1 - spans[span_count - 1].offset;
      spans[span_count - 1].write_count++;
    } else {
      spans[span_count++] = RepairSpan{offset, 1, write_count, 1};
    }
    write_count++;
  }

  // Each L2 table with fixes is written once, on qemu's first visit: its fixes come under one L1 entry,
  // the first that names it (qemu re-reads the written table on later visits and finds nothing to fix).
  INSTAR_TRY_ASSIGN(sorted, scratch.allocate_array<uint64_t>(table_count));
  INSTAR_TRY_ASSIGN(first_index, scratch.allocate_array<uint64_t>(table_count));
  for (size_t t = 0; t < table_count; t++) sorted[t] = tables[t];
  heap_sort(sorted, table_count);
  for (size_t t = 1; t < table_count; t++)
    if (sorted[t] == sorted[t - 1]) return make_error(Errc::invalid, "an L2 table to repair is listed twice");
  for (size_t t = 0; t < table_count; t++) first_index[t] = l1_entries;
  for (uint64_t e = 0; e < l1_entries && table_count != 0; e++) {
    uint64_t table = load_be(layout.l1_table, static_cast<size_t>(e * 8), 8) & kL1OffsetMask;
    size_t at = table != 0 ? sorted_find(sorted, table_count, table) : table_count;
    if (at < table_count && first_index[at] == l1_entries) first_index[at] = e;
  }
  for (size_t i = 0, t = 0; i < l2_count; i++) {
    if (i > 0 && l2_fixes[i].l1_index == l2_fixes[i - 1].l1_index) continue;
    size_t at = sorted_find(sorted, table_count, tables[t++]);
    if (at >= table_count || first_index[at] != l2_fixes[i].l1_index)
      return make_error(Errc::invalid, "an L2 table's repairs are not under the first L1 entry naming it");
  }

  plan.writes = writes;
  plan.write_count = write_count;
  plan.spans = spans;
  plan.span_count = span_count;
  return plan;
}

SpanChange apply_copied_span(const CopiedPlan& plan, const RepairSpan& span, uint8_t* bytes) {
  SpanChange change;
  for (size_t i = 0; i < span.write_count; i++) {
    const CopiedWrite& w = plan.writes[span.first_write + i];
    uint64_t at = w.offset - span.offset;
    uint8_t before = bytes[at];
    bytes[at] = w.copied ? static_cast<uint8_t>(before | 0x80) : static_cast<uint8_t>(before & 0x7f);
    if (bytes[at] == before) continue;
    if (change.end == change.begin) change.begin = at;
    change.end = at + 1;  // writes rise within a span
  }
  return change;
}

}  // namespace instar::qcow2
