// refcount_rebuild_plan.cc: where qemu's refcount rebuild puts the new
// refcount blocks and table, what they hold, and what it frees afterwards.
#include "core/qcow2/refcount_rebuild_plan.h"

#include "core/base/checked.h"
#include "core/base/span_reader.h"

namespace instar::qcow2 {

namespace {

constexpr uint64_t kMaxTableBytes = 8ull << 20;  // qemu's QCOW_MAX_REFTABLE_SIZE: a larger table would not open

// The allocation state of a rebuild: qemu's in-memory refcount array (which
// grows at its end as clusters are allocated past it) and its new table.
class Builder {
 public:
  Builder(const RebuildLayout& layout, RebuildPlan& plan, uint64_t capacity, uint64_t* table, uint64_t table_max,
          uint64_t* allocated, size_t allocated_max)
      : plan_(plan),
        cluster_bits_(layout.cluster_bits),
        block_bits_(layout.cluster_bits + 3 - layout.refcount_order),
        capacity_(capacity),
        table_(table),
        table_max_(table_max),
        allocated_(allocated),
        allocated_max_(allocated_max) {}

  Result<void> run();
  uint64_t table_entries() const { return table_entries_; }
  size_t allocated_count() const { return allocated_count_; }

 private:
  uint64_t get(uint64_t k) const { return plan_.count_at(k); }
  void set_one(uint64_t k) {
    if (plan_.narrow != nullptr)
      plan_.narrow[k] = 1;
    else
      plan_.wide[k] = 1;
  }
  Result<uint64_t> allocate(uint64_t count, uint64_t& first_free);
  // Returns whether the table grew.
  Result<bool> write_blocks(uint64_t first, uint64_t end);

  RebuildPlan& plan_;
  uint32_t cluster_bits_;
  uint32_t block_bits_;
  uint64_t capacity_;
  uint64_t* table_;  // cluster offsets by block index, 0 where no block
  uint64_t table_max_;
  uint64_t table_entries_ = 0;
  uint64_t* allocated_;
  size_t allocated_max_;
  size_t allocated_count_ = 0;
};

// qemu's alloc_clusters_imrt: the first run of `count` free clusters from
// `first_free` (which moves to the first free cluster seen), appended at the
// end of the array when the run reaches it.
Result<uint64_t> Builder::allocate(uint64_t count, uint64_t& first_free) {
  uint64_t cluster = first_free;
  uint64_t contiguous = 0;
  bool first_gap = true;
  for (; cluster < plan_.cluster_count && contiguous < count; cluster++) {
    if (get(cluster) == 0) {
      contiguous++;
      if (first_gap) {
        first_free = cluster;
        first_gap = false;
      }
    } else {
      contiguous = 0;
    }
  }
  if (contiguous < count) {
    uint64_t needed = cluster + count - contiguous;
    if (needed > capacity_) return make_error(Errc::too_large, "the new refcount structure is too large");
    for (uint64_t k = plan_.cluster_count; k < needed; k++) {
      if (plan_.narrow != nullptr)
        plan_.narrow[k] = 0;
      else
        plan_.wide[k] = 0;
    }
    plan_.cluster_count = needed;
  }
  cluster -= contiguous;
  // The header's cluster is always counted: offset 0 would mean "no block" in the new table.
  if (cluster == 0) return make_error(Errc::invalid, "the header's cluster is not counted");
  for (uint64_t i = 0; i < count; i++) {
    if (allocated_count_ >= allocated_max_) return make_error(Errc::too_large, "the new refcount structure is too large");
    set_one(cluster + i);
    allocated_[allocated_count_++] = cluster + i;
  }
  return cluster;
}

// qemu's rebuild_refcounts_write_refblocks: a block for every range of
// clusters holding a count, allocated (when new) no lower than the range it covers.
Result<bool> Builder::write_blocks(uint64_t first, uint64_t end) {
  const uint64_t per_block = uint64_t{1} << block_bits_;
  const uint64_t entries_per_cluster = (uint64_t{1} << cluster_bits_) / 8;
  uint64_t first_free = 0;
  bool grown = false;
  for (uint64_t cluster = first; cluster < end; cluster++) {
    if (get(cluster) == 0) continue;
    uint64_t index = cluster >> block_bits_;
    uint64_t start = index << block_bits_;
    if (!(table_entries_ > index && table_[index] != 0)) {
      if (first_free < start) first_free = start;
      INSTAR_TRY_ASSIGN(block, allocate(1, first_free));
      if (block >= end) end = block + 1;
      if (table_entries_ <= index) {
        uint64_t entries = (index + 1 + entries_per_cluster - 1) / entries_per_cluster * entries_per_cluster;
        if (entries > table_max_) return make_error(Errc::too_large, "the new refcount table is too large");
        for (uint64_t i = table_entries_; i < entries; i++) table_[i] = 0;
        table_entries_ = entries;
        grown = true;
      }
      table_[index] = block << cluster_bits_;
    }
    cluster = start + per_block - 1;
  }
  return grown;
}

// qemu's rebuild_refcount_structure: the blocks, then the table, again while
// placing the table made the table grow.
Result<void> Builder::run() {
  INSTAR_TRY_ASSIGN(grown, write_blocks(0, plan_.cluster_count));
  if (!grown) return make_error(Errc::invalid, "nothing to rebuild a refcount structure for");
  const uint64_t cluster_size = uint64_t{1} << cluster_bits_;
  while (grown) {
    uint64_t first_free = 0;
    uint64_t clusters = (table_entries_ * 8 + cluster_size - 1) / cluster_size;
    INSTAR_TRY_ASSIGN(table_cluster, allocate(clusters, first_free));
    plan_.table_offset = table_cluster << cluster_bits_;
    plan_.table_clusters = static_cast<uint32_t>(clusters);
    INSTAR_TRY_ASSIGN(again, write_blocks(table_cluster, table_cluster + clusters));
    grown = again;
  }
  plan_.table_entries = table_entries_;
  return ok();
}

uint64_t max_count(uint32_t order) { return order >= 6 ? UINT64_MAX : (uint64_t{1} << (uint64_t{1} << order)) - 1; }

}  // namespace

Result<RebuildPlan> plan_refcount_rebuild(const RebuildLayout& layout, const ClusterCounts& counts, Arena& scratch) {
  if (layout.cluster_bits < 9 || layout.cluster_bits > 21 || layout.refcount_order > 6)
    return make_error(Errc::invalid, "the image's cluster size or refcount width cannot be rebuilt");
  if ((counts.narrow == nullptr) == (counts.wide == nullptr) || (counts.narrow != nullptr && layout.refcount_order > 4))
    return make_error(Errc::invalid, "refcount counters of the wrong width");
  if (counts.count > 0x7fffffff) return make_error(Errc::too_large, "the image is too large to rebuild");
  const uint64_t cluster_size = uint64_t{1} << layout.cluster_bits;
  const uint32_t block_bits = layout.cluster_bits + 3 - layout.refcount_order;
  const uint64_t per_block = uint64_t{1} << block_bits;
  const uint64_t limit = max_count(layout.refcount_order);
  for (uint64_t k = 0; k < counts.count; k++)
    if (counts.at(k) > limit) return make_error(Errc::invalid, "a count does not fit the refcount width");

  // A bound on the clusters the new structure takes: its blocks, and its table placed a few times.
  uint64_t extra = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t blocks = (counts.count + extra) / per_block + 2;
    uint64_t table_clusters = blocks * 8 / cluster_size + 2;
    extra = blocks + 4 * table_clusters + 4;
  }
  const uint64_t capacity = counts.count + extra;
  const uint64_t table_max = ((capacity / per_block + 1) * 8 + cluster_size - 1) / cluster_size * (cluster_size / 8);

  RebuildPlan plan;
  plan.cluster_bits = layout.cluster_bits;
  plan.refcount_order = layout.refcount_order;
  INSTAR_TRY_ASSIGN(count_bytes, checked_mul(capacity, counts.narrow != nullptr ? 2 : 4));
  INSTAR_TRY_ASSIGN(count_memory, scratch.allocate(static_cast<size_t>(count_bytes)));
  if (counts.narrow != nullptr) {
    plan.narrow = reinterpret_cast<uint16_t*>(count_memory);
    for (uint64_t k = 0; k < counts.count; k++) plan.narrow[k] = counts.narrow[k];
  } else {
    plan.wide = reinterpret_cast<uint32_t*>(count_memory);
    for (uint64_t k = 0; k < counts.count; k++) plan.wide[k] = counts.wide[k];
  }
  plan.cluster_count = counts.count;
  INSTAR_TRY_ASSIGN(table_memory, scratch.allocate(static_cast<size_t>(table_max * 8)));
  INSTAR_TRY_ASSIGN(allocated_memory, scratch.allocate(static_cast<size_t>(extra * 8)));
  auto* table = reinterpret_cast<uint64_t*>(table_memory);
  auto* allocated = reinterpret_cast<uint64_t*>(allocated_memory);

  Builder builder(layout, plan, capacity, table, table_max, allocated, static_cast<size_t>(extra));
  INSTAR_TRY(builder.run());
  if (plan.table_entries * 8 > kMaxTableBytes)
    return make_error(Errc::too_large, "the new refcount table would be larger than qemu opens");

  size_t block_count = 0;
  for (uint64_t i = 0; i < plan.table_entries; i++)
    if (table[i] != 0) block_count++;
  INSTAR_TRY_ASSIGN(block_memory, scratch.allocate(block_count * sizeof(RebuildBlock)));
  auto* blocks = reinterpret_cast<RebuildBlock*>(block_memory);
  size_t n = 0;
  for (uint64_t i = 0; i < plan.table_entries; i++)
    if (table[i] != 0) blocks[n++] = RebuildBlock{i, table[i]};
  plan.blocks = blocks;
  plan.block_count = block_count;
  plan.allocated = allocated;
  plan.allocated_count = builder.allocated_count();

  // qemu checks each write of the new structure against the old metadata: a new block or the new
  // table where an old refcount table entry points (masked as qemu masks it, not counted by the
  // check because the entry is broken) fails its rebuild midway. Refused here.
  INSTAR_TRY_ASSIGN(mark_memory, scratch.allocate(static_cast<size_t>(plan.cluster_count / 8 + 1)));
  uint8_t* written = mark_memory;
  for (uint64_t k = 0; k <= plan.cluster_count / 8; k++) written[k] = 0;
  auto mark = [&](uint64_t k) { written[k / 8] = static_cast<uint8_t>(written[k / 8] | (1u << (k % 8))); };
  for (size_t i = 0; i < block_count; i++) mark(blocks[i].offset >> layout.cluster_bits);
  for (uint64_t c = 0; c < plan.table_clusters; c++) mark((plan.table_offset >> layout.cluster_bits) + c);
  bool overlaps_later = false;
  for (size_t at = 0; at + 8 <= layout.old_table.size; at += 8) {
    uint64_t offset = load_be(layout.old_table, at, 8) & 0xfffffffffffffe00ull;
    if (offset == 0 || offset >> layout.cluster_bits >= plan.cluster_count) continue;
    uint64_t first = offset >> layout.cluster_bits;
    uint64_t last = (offset + cluster_size - 1) >> layout.cluster_bits;
    for (uint64_t k = first; k <= last && k < plan.cluster_count; k++) {
      if (((written[k / 8] >> (k % 8)) & 1) == 0) continue;
      if (k == allocated[0]) {
        plan.first_write_overlaps = true;
        continue;
      }
      overlaps_later = true;
    }
  }
  if (plan.first_write_overlaps) return plan;
  if (overlaps_later)
    return make_error(Errc::unsupported,
                      "rebuilding the refcount structure over a broken refcount block is not supported by instar yet");

  // The file grows only to take in the new clusters.
  uint64_t size = layout.file_size;
  for (size_t i = 0; i < plan.allocated_count; i++) {
    uint64_t end = (allocated[i] + 1) << layout.cluster_bits;
    if (end > size) size = end;
  }
  plan.file_size = size;
  return plan;
}

Result<void> finish_refcount_rebuild(RebuildPlan& plan, const ClusterCounts& original, const ClusterCounts& recount,
                                     Arena& scratch) {
  const uint64_t cluster_size = uint64_t{1} << plan.cluster_bits;
  const uint32_t block_bits = plan.cluster_bits + 3 - plan.refcount_order;
  if (recount.count > plan.cluster_count)
    return make_error(Errc::invalid, "the rebuilt refcount structure is still broken");
  // The new structure: allocated where nothing was counted, inside the planned file, counted once now.
  for (size_t i = 0; i < plan.allocated_count; i++) {
    uint64_t k = plan.allocated[i];
    if (original.at(k) != 0) return make_error(Errc::invalid, "the new refcount structure overlaps data");
    if (((k + 1) << plan.cluster_bits) > plan.file_size)
      return make_error(Errc::invalid, "the new refcount structure lies outside the file");
  }
  for (size_t i = 0; i < plan.block_count; i++) {
    const RebuildBlock& b = plan.blocks[i];
    if ((b.offset & (cluster_size - 1)) != 0 || b.offset > plan.file_size || plan.file_size - b.offset < cluster_size ||
        recount.at(b.offset >> plan.cluster_bits) != 1 || b.index >= plan.table_entries ||
        (i > 0 && plan.blocks[i - 1].index >= b.index))
      return make_error(Errc::invalid, "a new refcount block is misplaced");
  }
  uint64_t table_bytes = uint64_t{plan.table_clusters} * cluster_size;
  if ((plan.table_offset & (cluster_size - 1)) != 0 || plan.table_entries * 8 > table_bytes ||
      plan.table_offset > plan.file_size || plan.file_size - plan.table_offset < table_bytes)
    return make_error(Errc::invalid, "the new refcount table is misplaced");
  for (uint64_t c = 0; c < plan.table_clusters; c++)
    if (recount.at((plan.table_offset >> plan.cluster_bits) + c) != 1)
      return make_error(Errc::invalid, "the new refcount table is misplaced");

  // Lower the leaks (qemu's repair after the rebuild); what drops to 0 is discarded, runs in one.
  size_t discard_max = 0, lowered_max = 0;
  for (uint64_t k = 0; k < plan.cluster_count; k++) {
    uint64_t stored = plan.count_at(k), counted = recount.at(k);
    if (stored < counted) return make_error(Errc::invalid, "the rebuilt refcount structure is still broken");
    if (stored > counted) lowered_max++;
    if (stored > counted && counted == 0) discard_max++;
  }
  INSTAR_TRY_ASSIGN(discard_memory, scratch.allocate(discard_max * sizeof(RepairDiscard) + 1));
  INSTAR_TRY_ASSIGN(lowered_memory, scratch.allocate(lowered_max * sizeof(RefcountFix) + 1));
  auto* discards = reinterpret_cast<RepairDiscard*>(discard_memory);
  auto* lowered = reinterpret_cast<RefcountFix*>(lowered_memory);
  size_t discard_count = 0, lowered_count = 0;
  for (uint64_t k = 0; k < plan.cluster_count; k++) {
    uint64_t stored = plan.count_at(k), counted = recount.at(k);
    if (stored == counted) continue;
    if (lowered_count >= lowered_max) return make_error(Errc::invalid, "lowered counts miscounted");
    lowered[lowered_count++] = RefcountFix{k, stored};
    if (plan.narrow != nullptr)
      plan.narrow[k] = static_cast<uint16_t>(counted);
    else
      plan.wide[k] = static_cast<uint32_t>(counted);
    if (counted != 0) continue;
    uint64_t offset = k << plan.cluster_bits;
    if (discard_count > 0 && discards[discard_count - 1].offset + discards[discard_count - 1].length == offset) {
      discards[discard_count - 1].length += cluster_size;
    } else {
      if (discard_count >= discard_max) return make_error(Errc::invalid, "discards miscounted");
      discards[discard_count++] = RepairDiscard{offset, cluster_size};
    }
  }
  // Every count is now covered by a new block; nothing freed is part of the new structure.
  for (uint64_t k = 0; k < plan.cluster_count; k++) {
    if (plan.count_at(k) == 0) continue;
    uint64_t index = k >> block_bits;
    size_t low = 0, high = plan.block_count;
    while (low < high) {
      size_t mid = low + (high - low) / 2;
      if (plan.blocks[mid].index < index)
        low = mid + 1;
      else
        high = mid;
    }
    if (low >= plan.block_count || plan.blocks[low].index != index)
      return make_error(Errc::invalid, "a counted cluster has no new refcount block");
  }
  // A freed partial last cluster is discarded up to the end of the file (a hole does not grow it).
  for (size_t i = 0; i < discard_count; i++) {
    if (discards[i].offset >= plan.file_size) return make_error(Errc::invalid, "a discard lies outside the file");
    if (plan.file_size - discards[i].offset < discards[i].length)
      discards[i].length = plan.file_size - discards[i].offset;
  }
  plan.discards = discards;
  plan.discard_count = discard_count;
  plan.lowered = lowered;
  plan.lowered_count = lowered_count;
  return ok();
}

void restore_lowered_counts(RebuildPlan& plan) {
  for (size_t i = 0; i < plan.lowered_count; i++) {
    const RefcountFix& f = plan.lowered[i];
    if (f.cluster >= plan.cluster_count) continue;
    if (plan.narrow != nullptr)
      plan.narrow[f.cluster] = static_cast<uint16_t>(f.refcount);
    else
      plan.wide[f.cluster] = static_cast<uint32_t>(f.refcount);
  }
}

void encode_rebuild_block(const RebuildPlan& plan, const RebuildBlock& block, uint8_t* out) {
  const uint64_t cluster_size = uint64_t{1} << plan.cluster_bits;
  const uint32_t order = plan.refcount_order;
  const uint64_t per_block = (cluster_size * 8) >> order;
  const uint64_t first = block.index * per_block;
  for (uint64_t i = 0; i < cluster_size; i++) out[i] = 0;
  const uint64_t width = uint64_t{1} << order;
  for (uint64_t i = 0; i < per_block; i++) {
    uint64_t v = plan.count_at(first + i);
    if (v == 0) continue;
    if (width < 8) {
      uint64_t bit = i * width;
      out[bit / 8] = static_cast<uint8_t>(out[bit / 8] | (v << (bit % 8)));
    } else {
      uint64_t bytes = width / 8;
      for (uint64_t b = 0; b < bytes; b++) out[i * bytes + b] = static_cast<uint8_t>(v >> (8 * (bytes - 1 - b)));
    }
  }
}

void encode_rebuild_table(const RebuildPlan& plan, uint64_t n, uint8_t* out) {
  const uint64_t cluster_size = uint64_t{1} << plan.cluster_bits;
  const uint64_t per_cluster = cluster_size / 8;
  for (uint64_t i = 0; i < cluster_size; i++) out[i] = 0;
  // The blocks are in index order: the first of this cluster's entries, then on while they are in it.
  size_t low = 0, high = plan.block_count;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    if (plan.blocks[mid].index < n * per_cluster)
      low = mid + 1;
    else
      high = mid;
  }
  for (size_t i = low; i < plan.block_count && plan.blocks[i].index < (n + 1) * per_cluster; i++) {
    const RebuildBlock& b = plan.blocks[i];
    uint64_t at = (b.index - n * per_cluster) * 8;
    for (int j = 0; j < 8; j++) out[at + j] = static_cast<uint8_t>(b.offset >> (56 - 8 * j));
  }
}

void encode_rebuild_header_fields(const RebuildPlan& plan, uint8_t out[12]) {
  for (int j = 0; j < 8; j++) out[j] = static_cast<uint8_t>(plan.table_offset >> (56 - 8 * j));
  for (int j = 0; j < 4; j++) out[8 + j] = static_cast<uint8_t>(plan.table_clusters >> (24 - 8 * j));
}

}  // namespace instar::qcow2
