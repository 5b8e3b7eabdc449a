// qcow2_repair_plan_fuzzer.cc: qcow2::plan_refcount_repair (the writes of check -r) on any layout and
// list of fixes; a plan, when there is one, must keep every write inside a refcount block the table
// names, inside the file, clear of the protected ranges, and must store exactly the fixed values; its
// spans (one read and one write a refcount block) must change the same bytes as the writes one by one,
// and its discards must free exactly the clusters whose refcount drops to 0.
//
// With bit 7 of the first byte set it also plans the OFLAG_COPIED repair (qcow2::plan_copied_repair)
// against that refcount plan: every write then sets or clears only bit 7 of the first byte of an L1
// entry or of an entry of an L2 table the L1 table names, inside the file, clear of the protected
// ranges, the refcount blocks written and the discards; an L2 table with writes is written under the
// first L1 entry naming it only (find_shared_l2_tables finds exactly the tables named twice or more).
//
// In both modes the fixes also name L2 entries for check_zero_fixes (the rewrite of unaligned
// preallocated zero clusters: its bytes, qemu's overlap check, the patched view of the image).
//
// Input (big-endian, docs/fuzzing.md): cluster_bits u8 (9 + n % 13; bit 7: copied mode), refcount_order
// u8 (n % 7), file_size u32 (in 512-byte units), table entry count u8 (n % 33) and the entries (u64
// each), protected range count u8 (n % 5) and the ranges (u64 offset, u64 length), then fixes: u32
// cluster and u64 refcount each, until the input ends (at most 256). In copied mode the fixes are
// preceded by their count u8 (n % 17) and followed by: extended L2 u8 (bit 0), L1 table offset u32 (in
// 512-byte units), L1 entry count u8 (n % 33) and the entries (u64 each), L1 fix count u8 (n % 9) and
// the fixes (u8 index, u8 copied bit 0), then L2 fixes until the input ends (u8 L1 index, u16 L2 index,
// u8 copied bit 0; at most 256).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/base/span_reader.h"
#include "core/io/memory_block_device.h"
#include "core/qcow2/refcount_check_patches.h"
#include "core/qcow2/refcount_copied_plan.h"
#include "core/qcow2/refcount_repair_plan.h"
#include "core/qcow2/refcount_table.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

constexpr size_t kScratchBytes = 1u << 20;
constexpr size_t kMaxFixes = 256;

bool overlaps(uint64_t a, uint64_t a_length, uint64_t b, uint64_t b_length) {
  return instar::qcow2::ranges_overlap(a, a_length, b, b_length);
}

// The OFLAG_COPIED planner against `refcount_plan` (none when the refcount repair was refused).
void check_copied_plan(instar::fuzz::InputReader& in, const instar::qcow2::RepairLayout& refcounts,
                       const instar::qcow2::RepairPlan* refcount_plan, instar::Arena& arena) {
  using namespace instar::qcow2;
  CopiedLayout layout;
  layout.cluster_bits = refcounts.cluster_bits;
  layout.file_size = refcounts.file_size;
  layout.protected_ranges = refcounts.protected_ranges;
  layout.protected_count = refcounts.protected_count;
  layout.refcount_plan = refcount_plan;
  layout.extended_l2 = (in.u8() & 1) != 0;
  layout.l1_table_offset = uint64_t{in.u32()} * 512;
  size_t l1_entries = in.u8() % 33;
  std::vector<uint8_t> l1(l1_entries * 8);
  for (size_t i = 0; i < l1_entries; i++) {
    uint64_t e = in.u64();
    for (size_t b = 0; b < 8; b++) l1[i * 8 + b] = static_cast<uint8_t>(e >> (56 - 8 * b));
  }
  layout.l1_table = instar::ByteSpan(l1.data(), l1.size());
  std::vector<L1CopiedFix> l1_fixes(in.u8() % 9);
  for (L1CopiedFix& f : l1_fixes) {
    f.l1_index = in.u8();
    f.copied = (in.u8() & 1) != 0;
  }
  std::vector<L2CopiedFix> l2_fixes;
  while (!in.empty() && l2_fixes.size() < kMaxFixes) {
    L2CopiedFix f;
    f.l1_index = in.u8();
    f.l2_index = in.u16();
    f.copied = (in.u8() & 1) != 0;
    l2_fixes.push_back(f);
  }
  auto planned =
      plan_copied_repair(layout, l1_fixes.data(), l1_fixes.size(), l2_fixes.data(), l2_fixes.size(), arena);
  INSTAR_FUZZ_CHECK(arena.used() <= arena.capacity());
  if (planned.is_error()) {
    INSTAR_FUZZ_CHECK(planned.error().message != nullptr && planned.error().message[0] != '\0');
    return;
  }
  const CopiedPlan& plan = planned.value();
  const uint64_t cluster_size = uint64_t{1} << layout.cluster_bits;
  const uint64_t entry_size = layout.extended_l2 ? 16 : 8;
  const uint64_t l1_bytes = l1_entries * 8;
  INSTAR_FUZZ_CHECK(plan.write_count == l1_fixes.size() + l2_fixes.size());
  auto clear = [&](uint64_t offset, uint64_t length) {
    for (size_t r = 0; r < layout.protected_count; r++)
      INSTAR_FUZZ_CHECK(!ranges_overlap(offset, length, layout.protected_ranges[r].offset,
                                        layout.protected_ranges[r].length));
    if (refcount_plan == nullptr) return;
    for (size_t w = 0; w < refcount_plan->write_count; w++)
      INSTAR_FUZZ_CHECK(!ranges_overlap(offset, length, refcount_plan->writes[w].block_offset, cluster_size));
    for (size_t d = 0; d < refcount_plan->discard_count; d++)
      INSTAR_FUZZ_CHECK(!ranges_overlap(offset, length, refcount_plan->discards[d].offset,
                                        refcount_plan->discards[d].length));
  };
  std::vector<uint64_t> tables, table_l1_index;
  for (size_t i = 0; i < plan.write_count; i++) {
    const CopiedWrite& w = plan.writes[i];
    if (i < l1_fixes.size()) {
      // The L1 entry the fix names, the table wholly inside the file and clear of other metadata.
      INSTAR_FUZZ_CHECK(l1_fixes[i].l1_index < l1_entries);
      INSTAR_FUZZ_CHECK(w.offset == layout.l1_table_offset + l1_fixes[i].l1_index * 8);
      INSTAR_FUZZ_CHECK(w.copied == l1_fixes[i].copied);
      INSTAR_FUZZ_CHECK(layout.l1_table_offset + l1_bytes <= layout.file_size);
      clear(layout.l1_table_offset, l1_bytes);
      continue;
    }
    const L2CopiedFix& f = l2_fixes[i - l1_fixes.size()];
    INSTAR_FUZZ_CHECK(f.l1_index < l1_entries && f.l2_index < cluster_size / entry_size);
    uint64_t table =
        instar::load_be(layout.l1_table, static_cast<size_t>(f.l1_index * 8), 8) & 0x00fffffffffffe00ull;
    INSTAR_FUZZ_CHECK(table != 0 && table % cluster_size == 0 && table + cluster_size <= layout.file_size);
    INSTAR_FUZZ_CHECK(w.offset == table + f.l2_index * entry_size && w.copied == f.copied);
    INSTAR_FUZZ_CHECK(!ranges_overlap(table, cluster_size, layout.l1_table_offset, l1_bytes));
    clear(table, cluster_size);
    if (tables.empty() || tables.back() != table) {
      tables.push_back(table);
      table_l1_index.push_back(f.l1_index);
    }
  }
  // An L2 table with writes is written once (its writes in one group), under the first L1 entry that
  // names it (qemu repairs it on that visit and re-reads it, repaired, on later ones).
  for (size_t t = 0; t < tables.size(); t++) {
    for (size_t u = t + 1; u < tables.size(); u++) INSTAR_FUZZ_CHECK(tables[u] != tables[t]);
    size_t first = l1_entries;
    for (size_t e = 0; e < l1_entries && first == l1_entries; e++)
      if ((instar::load_be(layout.l1_table, e * 8, 8) & 0x00fffffffffffe00ull) == tables[t]) first = e;
    INSTAR_FUZZ_CHECK(first == table_l1_index[t]);
  }
  // The shared tables: exactly those the L1 table names more than once, sorted, once each.
  auto shared = find_shared_l2_tables(layout.l1_table, arena);
  INSTAR_FUZZ_CHECK(shared.is_ok());
  for (size_t s = 0; s < shared.value().count; s++) {
    INSTAR_FUZZ_CHECK(s == 0 || shared.value().offsets[s - 1] < shared.value().offsets[s]);
    INSTAR_FUZZ_CHECK(shared.value().find(shared.value().offsets[s]) == s);
  }
  for (size_t e = 0; e < l1_entries; e++) {
    uint64_t table = instar::load_be(layout.l1_table, e * 8, 8) & 0x00fffffffffffe00ull;
    if (table == 0) continue;
    size_t named = 0;
    for (size_t g = 0; g < l1_entries; g++)
      if ((instar::load_be(layout.l1_table, g * 8, 8) & 0x00fffffffffffe00ull) == table) named++;
    INSTAR_FUZZ_CHECK((shared.value().find(table) < shared.value().count) == (named > 1));
  }
  // Spans: the writes in order, each inside one table; applying one changes only the flag bits and
  // reports exactly the bytes it changed.
  size_t next_write = 0;
  for (size_t s = 0; s < plan.span_count; s++) {
    const RepairSpan& span = plan.spans[s];
    INSTAR_FUZZ_CHECK(span.first_write == next_write && span.write_count > 0);
    INSTAR_FUZZ_CHECK(span.write_count <= plan.write_count - span.first_write);
    INSTAR_FUZZ_CHECK(span.length > 0 && span.length <= cluster_size);
    next_write += span.write_count;
    std::vector<uint8_t> bytes(static_cast<size_t>(span.length));
    for (size_t b = 0; b < bytes.size(); b++) bytes[b] = static_cast<uint8_t>(b * 37 + s);
    std::vector<uint8_t> read = bytes;
    for (size_t k = 0; k < span.write_count; k++) {
      const CopiedWrite& w = plan.writes[span.first_write + k];
      INSTAR_FUZZ_CHECK(w.offset >= span.offset && w.offset - span.offset < span.length);
    }
    SpanChange change = apply_copied_span(plan, span, bytes.data());
    INSTAR_FUZZ_CHECK(change.begin <= change.end && change.end <= span.length);
    for (uint64_t b = 0; b < span.length; b++) {
      INSTAR_FUZZ_CHECK((bytes[b] & 0x7f) == (read[b] & 0x7f));
      if (b < change.begin || b >= change.end) INSTAR_FUZZ_CHECK(bytes[b] == read[b]);
    }
    for (size_t k = 0; k < span.write_count; k++) {
      const CopiedWrite& w = plan.writes[span.first_write + k];
      INSTAR_FUZZ_CHECK(((bytes[w.offset - span.offset] & 0x80) != 0) == w.copied);
    }
    if (change.end != change.begin)
      INSTAR_FUZZ_CHECK(bytes[change.begin] != read[change.begin] &&
                        bytes[change.end - 1] != read[change.end - 1]);
  }
  INSTAR_FUZZ_CHECK(next_write == plan.write_count);
}

}  // namespace

// -r all's rewrite of unaligned preallocated zero clusters (refcount_check_patches.h), on entries the
// fixes name (cluster: the table's, refcount: entry index and bitmap): the new entry is a plain zero
// cluster (standard) or entry 0 with only zero bits (extended); an allowed rewrite lies wholly inside
// the file, past the header cluster and clear, cluster-wide, of the protected ranges and every refcount
// block the table names; the patched view reads the new bytes there and the old ones elsewhere.
void check_zero_fixes(const instar::qcow2::RepairLayout& refcounts,
                      const std::vector<instar::qcow2::RefcountFix>& fixes, instar::Arena& arena) {
  using namespace instar::qcow2;
  const uint64_t cluster_size = uint64_t{1} << refcounts.cluster_bits;
  ZeroFixLayout layout;
  layout.cluster_bits = refcounts.cluster_bits;
  layout.file_size = refcounts.file_size;
  layout.refcount_table = refcounts.refcount_table;
  if (refcounts.protected_count > 0) {
    layout.l1_offset = refcounts.protected_ranges[0].offset;
    layout.l1_bytes = refcounts.protected_ranges[0].length;
  }
  if (refcounts.protected_count > 1) {
    layout.refcount_table_offset = refcounts.protected_ranges[1].offset;
    layout.refcount_table_bytes = refcounts.protected_ranges[1].length;
  }
  if (refcounts.protected_count > 2) {
    layout.snapshot_table_offset = refcounts.protected_ranges[2].offset;
    layout.snapshot_table_bytes = refcounts.protected_ranges[2].length;
  }
  std::vector<uint8_t> file(static_cast<size_t>(refcounts.file_size < (1u << 20) ? refcounts.file_size : 0));
  for (size_t i = 0; i < file.size(); i++) file[i] = static_cast<uint8_t>(i * 7 + 1);
  instar::MemoryBlockDevice device(file.data(), file.size(), false);
  PatchedImage view(device);
  for (const RefcountFix& fix : fixes) {
    const bool extended = (fix.refcount & 1) != 0;
    const uint64_t entry_size = extended ? 16 : 8;
    const uint64_t offset =
        fix.cluster * cluster_size + (fix.refcount >> 1) % (cluster_size / entry_size) * entry_size;
    L2EntryPatch p = zeroed_l2_entry(offset, extended, fix.refcount);
    INSTAR_FUZZ_CHECK(p.offset == offset && p.length == entry_size);
    INSTAR_FUZZ_CHECK(instar::load_be(instar::ByteSpan(p.bytes, 8), 0, 8) == (extended ? 0u : 1u));
    if (extended) {
      uint64_t bitmap = instar::load_be(instar::ByteSpan(p.bytes + 8, 8), 0, 8);
      INSTAR_FUZZ_CHECK((bitmap & 0xffffffffu) == 0);
      INSTAR_FUZZ_CHECK((bitmap >> 32) == (((fix.refcount >> 32) | fix.refcount) & 0xffffffffu));
    }
    if (!zero_fix_allowed(layout, p)) continue;
    INSTAR_FUZZ_CHECK(p.offset >= cluster_size && p.offset + p.length <= layout.file_size);
    const uint64_t start = p.offset & ~(cluster_size - 1);
    const uint64_t span = ((p.offset + p.length + cluster_size - 1) & ~(cluster_size - 1)) - start;
    for (size_t r = 0; r < refcounts.protected_count && r < 3; r++)
      INSTAR_FUZZ_CHECK(
          !overlaps(start, span, refcounts.protected_ranges[r].offset, refcounts.protected_ranges[r].length));
    for (size_t e = 0; e + 8 <= refcounts.refcount_table.size; e += 8) {
      uint64_t block = instar::load_be(refcounts.refcount_table, e, 8) & 0xfffffffffffffe00ull;
      INSTAR_FUZZ_CHECK(block == 0 || !overlaps(start, span, block, cluster_size));
    }
    if (p.offset + p.length > file.size() || view.count() >= 8) continue;
    bool fresh = true;  // one patch an entry, as the check adds them
    for (size_t i = 0; i < view.count(); i++)
      if (overlaps(view.patches()[i].offset, view.patches()[i].length, p.offset, p.length)) fresh = false;
    if (!fresh || view.add(p, arena).is_error()) continue;
    uint8_t window[48];
    uint64_t from = p.offset >= 16 ? p.offset - 16 : 0;
    size_t n = static_cast<size_t>(file.size() - from < sizeof window ? file.size() - from : sizeof window);
    INSTAR_FUZZ_CHECK(view.read(from, window, n).is_ok());
    for (size_t b = 0; b < n; b++) {
      uint64_t at = from + b;
      bool patched = false;
      for (size_t i = 0; i < view.count() && !patched; i++) {
        const L2EntryPatch& q = view.patches()[i];
        if (at >= q.offset && at - q.offset < q.length) {
          INSTAR_FUZZ_CHECK(window[b] == q.bytes[at - q.offset]);
          patched = true;
        }
      }
      if (!patched) INSTAR_FUZZ_CHECK(window[b] == file[static_cast<size_t>(at)]);
    }
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  using namespace instar::qcow2;
  instar::fuzz::InputReader in(instar::ByteSpan(data, size));
  RepairLayout layout;
  uint8_t first = in.u8();
  const bool copied_mode = (first & 0x80) != 0;
  layout.cluster_bits = 9 + (first & 0x7f) % 13;
  layout.refcount_order = in.u8() % 7;
  layout.file_size = uint64_t{in.u32()} * 512;
  size_t entries = in.u8() % 33;
  std::vector<uint8_t> table(entries * 8);
  for (size_t i = 0; i < entries; i++) {
    uint64_t e = in.u64();
    for (size_t b = 0; b < 8; b++) table[i * 8 + b] = static_cast<uint8_t>(e >> (56 - 8 * b));
  }
  layout.refcount_table = instar::ByteSpan(table.data(), table.size());
  ProtectedRange ranges[4];
  size_t range_count = in.u8() % 5;
  for (size_t i = 0; i < range_count; i++) ranges[i] = ProtectedRange{in.u64(), in.u64()};
  layout.protected_ranges = ranges;
  layout.protected_count = range_count;
  std::vector<RefcountFix> fixes;
  size_t fix_limit = copied_mode ? in.u8() % 17 : kMaxFixes;
  while (!in.empty() && fixes.size() < fix_limit) {
    uint64_t cluster = in.u32();
    fixes.push_back(RefcountFix{cluster, in.u64()});
  }

  static std::unique_ptr<uint8_t[]> scratch(new uint8_t[kScratchBytes]);
  instar::Arena arena(scratch.get(), kScratchBytes);
  check_zero_fixes(layout, fixes, arena);
  auto planned = plan_refcount_repair(layout, fixes.data(), fixes.size(), arena);
  INSTAR_FUZZ_CHECK(arena.used() <= arena.capacity());
  if (copied_mode) {
    check_copied_plan(in, layout, planned.is_ok() ? &planned.value() : nullptr, arena);
    return 0;
  }
  if (planned.is_error()) {
    INSTAR_FUZZ_CHECK(planned.error().message != nullptr && planned.error().message[0] != '\0');
    return 0;
  }
  const RepairPlan& plan = planned.value();
  const uint64_t cluster_size = uint64_t{1} << layout.cluster_bits;
  const uint32_t block_bits = layout.cluster_bits + 3 - layout.refcount_order;
  INSTAR_FUZZ_CHECK(plan.write_count == fixes.size());
  for (size_t i = 0; i < plan.write_count; i++) {
    const RefcountWrite& w = plan.writes[i];
    const RefcountFix& fix = fixes[i];
    // The block is the one the table names for the fix's cluster, whole inside the file, not metadata.
    uint64_t index = fix.cluster >> block_bits;
    INSTAR_FUZZ_CHECK(index < entries);
    uint64_t entry = instar::load_be(layout.refcount_table, static_cast<size_t>(index * 8), 8);
    INSTAR_FUZZ_CHECK((entry & kRefTableReservedMask) == 0);
    INSTAR_FUZZ_CHECK(w.block_offset == (entry & kRefTableOffsetMask));
    INSTAR_FUZZ_CHECK(w.block_offset >= cluster_size && w.block_offset % cluster_size == 0);
    INSTAR_FUZZ_CHECK(w.block_offset <= layout.file_size &&
                      layout.file_size - w.block_offset >= cluster_size);
    for (size_t r = 0; r < range_count; r++)
      INSTAR_FUZZ_CHECK(!overlaps(w.block_offset, cluster_size, ranges[r].offset, ranges[r].length));
    // The write stays inside its block and stores exactly the fixed value in the fix's entry.
    INSTAR_FUZZ_CHECK(w.length == 1 || w.length == 2 || w.length == 4 || w.length == 8);
    INSTAR_FUZZ_CHECK(w.offset >= w.block_offset && w.offset - w.block_offset <= cluster_size - w.length);
    std::vector<uint8_t> block(static_cast<size_t>(cluster_size), 0x5a);
    std::vector<uint8_t> before = block;
    instar::qcow2::apply_refcount_write(w, block.data() + (w.offset - w.block_offset));
    instar::ByteSpan b(block.data(), block.size()), a(before.data(), before.size());
    uint64_t in_block = fix.cluster & ((uint64_t{1} << block_bits) - 1);
    INSTAR_FUZZ_CHECK(refcount_block_entry(b, layout.refcount_order, in_block) == fix.refcount);
    uint64_t neighbour = in_block ^ 1;
    INSTAR_FUZZ_CHECK(refcount_block_entry(b, layout.refcount_order, neighbour) ==
                      refcount_block_entry(a, layout.refcount_order, neighbour));
  }
  // Spans: the writes in order, each run inside one block; applying a span equals applying its writes
  // one by one, and only the bytes it reports changed differ from what was read.
  size_t next_write = 0;
  for (size_t s = 0; s < plan.span_count; s++) {
    const RepairSpan& span = plan.spans[s];
    INSTAR_FUZZ_CHECK(span.first_write == next_write && span.write_count > 0);
    INSTAR_FUZZ_CHECK(span.write_count <= plan.write_count - span.first_write);
    next_write += span.write_count;
    const RefcountWrite& first = plan.writes[span.first_write];
    INSTAR_FUZZ_CHECK(span.offset == first.offset && span.length > 0);
    INSTAR_FUZZ_CHECK(span.offset - first.block_offset <= cluster_size - span.length);
    std::vector<uint8_t> block(static_cast<size_t>(cluster_size));
    for (size_t b = 0; b < block.size(); b++) block[b] = static_cast<uint8_t>(b * 7 + s);
    std::vector<uint8_t> one_by_one = block;
    for (size_t k = 0; k < span.write_count; k++) {
      const RefcountWrite& w = plan.writes[span.first_write + k];
      INSTAR_FUZZ_CHECK(w.block_offset == first.block_offset);
      INSTAR_FUZZ_CHECK(w.offset >= span.offset && w.offset - span.offset <= span.length - w.length);
      apply_refcount_write(w, one_by_one.data() + (w.offset - w.block_offset));
    }
    std::vector<uint8_t> spanned = block;
    uint8_t* bytes = spanned.data() + (span.offset - first.block_offset);
    SpanChange change = apply_repair_span(plan, span, bytes);
    INSTAR_FUZZ_CHECK(spanned == one_by_one);
    INSTAR_FUZZ_CHECK(change.begin <= change.end && change.end <= span.length);
    const uint8_t* read = block.data() + (span.offset - first.block_offset);
    for (uint64_t b = 0; b < span.length; b++)
      if (b < change.begin || b >= change.end) INSTAR_FUZZ_CHECK(bytes[b] == read[b]);
    if (change.end != change.begin)
      INSTAR_FUZZ_CHECK(bytes[change.begin] != read[change.begin] &&
                        bytes[change.end - 1] != read[change.end - 1]);
  }
  INSTAR_FUZZ_CHECK(next_write == plan.write_count);
  // Discards: in order, apart, covering exactly the freed clusters, inside the file, never metadata or
  // a written block.
  uint64_t freed_bytes = 0, discarded_bytes = 0;
  for (size_t i = 0; i < fixes.size(); i++) {
    if (fixes[i].refcount != 0) continue;
    uint64_t start = fixes[i].cluster * cluster_size;
    freed_bytes += layout.file_size - start < cluster_size ? layout.file_size - start : cluster_size;
    bool covered = false;
    for (size_t d = 0; d < plan.discard_count; d++)
      covered = covered || (start >= plan.discards[d].offset &&
                            start - plan.discards[d].offset < plan.discards[d].length);
    INSTAR_FUZZ_CHECK(covered);
  }
  for (size_t d = 0; d < plan.discard_count; d++) {
    const RepairDiscard& r = plan.discards[d];
    discarded_bytes += r.length;
    INSTAR_FUZZ_CHECK(r.offset % cluster_size == 0 && r.length > 0);
    INSTAR_FUZZ_CHECK(d == 0 || plan.discards[d - 1].offset + plan.discards[d - 1].length < r.offset);
    INSTAR_FUZZ_CHECK(r.offset >= cluster_size && r.offset < layout.file_size &&
                      layout.file_size - r.offset >= r.length);
    for (size_t k = 0; k < range_count; k++)
      INSTAR_FUZZ_CHECK(!overlaps(r.offset, r.length, ranges[k].offset, ranges[k].length));
    for (size_t w = 0; w < plan.write_count; w++)
      INSTAR_FUZZ_CHECK(!overlaps(r.offset, r.length, plan.writes[w].block_offset, cluster_size));
  }
  INSTAR_FUZZ_CHECK(discarded_bytes == freed_bytes);
  return 0;
}
