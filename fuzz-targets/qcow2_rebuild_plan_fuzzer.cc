// qcow2_rebuild_plan_fuzzer.cc: qcow2::plan_refcount_rebuild and finish_refcount_rebuild (the new
// refcount structure of check -r all) on any counts. A plan, when there is one, must place every new
// block and the table in clusters nothing was counted in, cluster aligned, inside the planned file
// size (which is the old size or the end of the last new cluster, never more), clear of every
// cluster an old table entry names; its blocks must cover every count and encode exactly the counts,
// its table exactly the blocks. Finished against the recount the check would make (the clusters
// marked "old structure" no longer counted, the new blocks and table once), the counts must equal the
// recount and the discards cover exactly the clusters whose count dropped to 0. A recount above the
// counts must be refused. A plan whose first write lands where an old entry points (qemu fails
// there) must say so only then. restore_lowered_counts (a disabled image's lost leak repair) must
// give back exactly the counts from before the finish and keep the discards.
//
// Input (big-endian, docs/fuzzing.md): cluster_bits u8 (9 + n % 13), refcount_order u8 (n % 7),
// file_size u32 (bytes), old table entry count u8 (n % 17) and the entries (u64 each), mode u8
// (bit 0: corrupt the recount by one), then one u8 a cluster until the input ends (at most 4096): bits
// 0-6 the count (modulo the width's maximum + 1), bit 7 the cluster belongs to the old structure.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/base/span_reader.h"
#include "core/qcow2/refcount_rebuild_plan.h"
#include "core/qcow2/refcount_table.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

constexpr size_t kScratchBytes = 8u << 20;
constexpr size_t kMaxClusters = 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  using namespace instar::qcow2;
  instar::fuzz::InputReader in(instar::ByteSpan(data, size));
  RebuildLayout layout;
  layout.cluster_bits = 9 + in.u8() % 13;
  layout.refcount_order = in.u8() % 7;
  layout.file_size = in.u32();
  size_t entries = in.u8() % 17;
  std::vector<uint8_t> old_table(entries * 8);
  for (size_t i = 0; i < entries; i++) {
    uint64_t e = in.u64();
    for (size_t b = 0; b < 8; b++) old_table[i * 8 + b] = static_cast<uint8_t>(e >> (56 - 8 * b));
  }
  layout.old_table = instar::ByteSpan(old_table.data(), old_table.size());
  const bool corrupt_recount = (in.u8() & 1) != 0;
  const uint64_t width = uint64_t{1} << layout.refcount_order;
  const uint64_t max_count = width >= 16 ? 0x7f : (uint64_t{1} << width) - 1;
  const bool narrow = layout.refcount_order <= 4;
  std::vector<uint16_t> counts16;
  std::vector<uint32_t> counts32;
  std::vector<bool> old_structure;
  while (!in.empty() && old_structure.size() < kMaxClusters) {
    uint8_t b = in.u8();
    uint64_t v = (b & 0x7f) % (max_count + 1);
    if (narrow)
      counts16.push_back(static_cast<uint16_t>(v));
    else
      counts32.push_back(static_cast<uint32_t>(v));
    old_structure.push_back((b & 0x80) != 0);
  }
  const uint64_t cluster_size = uint64_t{1} << layout.cluster_bits;
  ClusterCounts original;
  original.narrow = narrow ? counts16.data() : nullptr;
  original.wide = narrow ? nullptr : counts32.data();
  original.count = old_structure.size();
  if (original.count == 0) return 0;
  // The check's counts stop at the end of the file (one spare cluster past it), and the old
  // structure lies inside the file.
  const uint64_t file_clusters = (layout.file_size + cluster_size - 1) / cluster_size;
  if (original.count > file_clusters + 1) return 0;
  for (uint64_t k = file_clusters; k < original.count; k++) old_structure[k] = false;

  static std::unique_ptr<uint8_t[]> scratch(new uint8_t[kScratchBytes]);
  instar::Arena arena(scratch.get(), kScratchBytes);
  auto planned = plan_refcount_rebuild(layout, original, arena);
  INSTAR_FUZZ_CHECK(arena.used() <= arena.capacity());
  if (planned.is_error()) {
    INSTAR_FUZZ_CHECK(planned.error().message != nullptr && planned.error().message[0] != '\0');
    return 0;
  }
  RebuildPlan& plan = planned.value();
  if (plan.first_write_overlaps) {
    // Only when an old entry names the cluster of qemu's first write (the first allocation).
    INSTAR_FUZZ_CHECK(plan.allocated_count > 0);
    bool named = false;
    for (size_t i = 0; i < entries; i++) {
      uint64_t o = instar::load_be(layout.old_table, i * 8, 8) & kRefTableOffsetMask;
      uint64_t k = plan.allocated[0];
      if (o != 0 && o < (k + 1) * cluster_size && k * cluster_size < o + cluster_size) named = true;
    }
    INSTAR_FUZZ_CHECK(named);
    return 0;
  }
  INSTAR_FUZZ_CHECK(plan.cluster_count >= original.count);
  INSTAR_FUZZ_CHECK(plan.table_clusters >= 1 && plan.table_entries % (cluster_size / 8) == 0);
  INSTAR_FUZZ_CHECK(plan.table_entries * 8 <= uint64_t{plan.table_clusters} * cluster_size);
  INSTAR_FUZZ_CHECK(plan.table_offset % cluster_size == 0);

  // Every new cluster was free, inside the planned size, which grows no further than they need.
  std::vector<bool> is_new(plan.cluster_count, false);
  uint64_t end = layout.file_size;
  for (size_t i = 0; i < plan.allocated_count; i++) {
    uint64_t k = plan.allocated[i];
    INSTAR_FUZZ_CHECK(k < plan.cluster_count && original.at(k) == 0 && !is_new[k]);
    is_new[k] = true;
    uint64_t k_end = (k + 1) * cluster_size;
    INSTAR_FUZZ_CHECK(k_end <= plan.file_size);
    if (k_end > end) end = k_end;
  }
  INSTAR_FUZZ_CHECK(plan.file_size == end);
  // The written structure: blocks and the final table; never where an old entry points.
  std::vector<bool> written(plan.cluster_count, false);
  for (size_t i = 0; i < plan.block_count; i++) {
    const RebuildBlock& b = plan.blocks[i];
    INSTAR_FUZZ_CHECK(b.offset % cluster_size == 0 && is_new[b.offset / cluster_size]);
    INSTAR_FUZZ_CHECK(b.index < plan.table_entries);
    INSTAR_FUZZ_CHECK(i == 0 || plan.blocks[i - 1].index < b.index);
    INSTAR_FUZZ_CHECK(!written[b.offset / cluster_size]);
    written[b.offset / cluster_size] = true;
  }
  for (uint64_t c = 0; c < plan.table_clusters; c++) {
    uint64_t k = plan.table_offset / cluster_size + c;
    INSTAR_FUZZ_CHECK(k < plan.cluster_count && is_new[k] && !written[k]);
    written[k] = true;
  }
  for (size_t i = 0; i < entries; i++) {
    uint64_t o = instar::load_be(layout.old_table, i * 8, 8) & kRefTableOffsetMask;
    if (o == 0) continue;
    for (uint64_t k = o / cluster_size; k < plan.cluster_count && k * cluster_size < o + cluster_size; k++)
      INSTAR_FUZZ_CHECK(!written[k]);
  }
  // Every count is covered by a block, and every block encodes exactly the counts.
  const uint32_t block_bits = layout.cluster_bits + 3 - layout.refcount_order;
  std::vector<uint8_t> buffer(cluster_size);
  std::vector<bool> covered((plan.cluster_count >> block_bits) + 1, false);
  for (size_t i = 0; i < plan.block_count; i++) {
    const RebuildBlock& b = plan.blocks[i];
    if (b.index < covered.size()) covered[b.index] = true;
    encode_rebuild_block(plan, b, buffer.data());
    instar::ByteSpan block(buffer.data(), buffer.size());
    const uint64_t per_block = uint64_t{1} << block_bits;
    const uint64_t base = b.index << block_bits;
    // Entry by entry up to a little past the last count, then the rest of the block is zero.
    uint64_t checked = plan.cluster_count > base ? plan.cluster_count - base + 64 : 64;
    if (checked > per_block) checked = per_block;
    for (uint64_t e = 0; e < checked; e++)
      INSTAR_FUZZ_CHECK(refcount_block_entry(block, layout.refcount_order, e) == plan.count_at(base + e));
    for (uint64_t at = (checked * width + 7) / 8; at < cluster_size; at++) INSTAR_FUZZ_CHECK(buffer[at] == 0);
  }
  for (uint64_t k = 0; k < plan.cluster_count; k++)
    if (plan.count_at(k) != 0) INSTAR_FUZZ_CHECK(covered[k >> block_bits]);
  for (uint64_t n = 0; n < plan.table_clusters; n++) {
    encode_rebuild_table(plan, n, buffer.data());
    instar::ByteSpan table(buffer.data(), buffer.size());
    for (uint64_t e = 0; e < cluster_size / 8; e++) {
      uint64_t index = n * (cluster_size / 8) + e;
      uint64_t expected = 0;
      for (size_t i = 0; i < plan.block_count; i++)
        if (plan.blocks[i].index == index) expected = plan.blocks[i].offset;
      INSTAR_FUZZ_CHECK(instar::load_be(table, e * 8, 8) == expected);
    }
  }

  // The recount: the old structure gone, the new one counted once (an outgrown table not at all).
  std::vector<uint32_t> before(plan.cluster_count);
  for (uint64_t k = 0; k < plan.cluster_count; k++) before[k] = static_cast<uint32_t>(plan.count_at(k));
  std::vector<uint16_t> recount16(plan.cluster_count, 0);
  std::vector<uint32_t> recount32(plan.cluster_count, 0);
  for (uint64_t k = 0; k < plan.cluster_count; k++) {
    uint64_t v = k < original.count && !old_structure[k] ? original.at(k) : 0;
    if (written[k]) v = 1;
    if (corrupt_recount && k == plan.cluster_count - 1) v = before[k] + 1;
    recount16[k] = static_cast<uint16_t>(v);
    recount32[k] = static_cast<uint32_t>(v);
  }
  ClusterCounts recount;
  recount.narrow = narrow ? recount16.data() : nullptr;
  recount.wide = narrow ? nullptr : recount32.data();
  recount.count = plan.cluster_count;
  auto finished = finish_refcount_rebuild(plan, original, recount, arena);
  if (corrupt_recount) {
    INSTAR_FUZZ_CHECK(finished.is_error());
    return 0;
  }
  INSTAR_FUZZ_CHECK(finished.is_ok());
  uint64_t discarded_clusters = 0;
  for (size_t i = 0; i < plan.discard_count; i++) {
    const RepairDiscard& d = plan.discards[i];
    INSTAR_FUZZ_CHECK(d.offset % cluster_size == 0 && d.length > 0 && d.offset + d.length <= plan.file_size);
    INSTAR_FUZZ_CHECK(i == 0 || plan.discards[i - 1].offset + plan.discards[i - 1].length < d.offset);
    for (uint64_t o = d.offset; o < d.offset + d.length; o += cluster_size) {
      uint64_t k = o / cluster_size;
      INSTAR_FUZZ_CHECK(before[k] != 0 && recount.at(k) == 0 && !written[k]);
      discarded_clusters++;
    }
  }
  uint64_t dropped = 0;
  for (uint64_t k = 0; k < plan.cluster_count; k++) {
    INSTAR_FUZZ_CHECK(plan.count_at(k) == recount.at(k));
    if (before[k] != 0 && recount.at(k) == 0) dropped++;
  }
  INSTAR_FUZZ_CHECK(discarded_clusters == dropped);
  // On an image qemu disabled its leak repair never reaches the blocks: restored, every count is the
  // one from before the finish, and the discards stay as they were.
  const size_t discards_before = plan.discard_count;
  restore_lowered_counts(plan);
  for (uint64_t k = 0; k < plan.cluster_count; k++) INSTAR_FUZZ_CHECK(plan.count_at(k) == before[k]);
  INSTAR_FUZZ_CHECK(plan.discard_count == discards_before);
  return 0;
}
