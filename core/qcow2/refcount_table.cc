// refcount_table.cc: reading stored refcounts through the refcount table.
#include "core/qcow2/refcount_table.h"

#include "core/base/padded.h"
#include "core/base/span_reader.h"

namespace instar::qcow2 {

uint64_t refcount_block_entry(ByteSpan block, uint32_t order, uint64_t index) {
  switch (order) {
    case 0:
      return (block[index / 8] >> (index % 8)) & 0x1;
    case 1:
      return (block[index / 4] >> (2 * (index % 4))) & 0x3;
    case 2:
      return (block[index / 2] >> (4 * (index % 2))) & 0xf;
    case 3:
      return block[index];
    case 4:
      return load_be(block, index * 2, 2);
    case 5:
      return load_be(block, index * 4, 4);
    default:
      return load_be(block, index * 8, 8);
  }
}

Result<void> StoredRefcounts::load(Arena& scratch) {
  // Bounded by validate_tables(): at most kMaxRefcountTableBytes.
  uint64_t bytes = uint64_t{header_.refcount_table_clusters} << header_.cluster_bits;
  if (bytes > kMaxRefcountTableBytes) return make_error(Errc::too_large, "Reference count table too large");
  INSTAR_TRY_ASSIGN(table, scratch.allocate(static_cast<size_t>(bytes)));
  if (bytes > 0) INSTAR_TRY(read_zero_padded(image_, header_.refcount_table_offset, table, bytes));
  table_ = ByteSpan(table, static_cast<size_t>(bytes));
  table_entries_ = bytes / 8;
  // A block holds cluster_size * 8 / 2^order entries.
  block_bits_ = header_.cluster_bits + 3 - header_.refcount_order;
  for (size_t i = 0; i < kCacheSlots; i++) {
    INSTAR_TRY_ASSIGN(slot, scratch.allocate(static_cast<size_t>(header_.cluster_size())));
    slots_[i] = slot;
  }
  return ok();
}

uint64_t StoredRefcounts::table_entry(uint64_t index) const {
  return index < table_entries_ ? load_be(table_, static_cast<size_t>(index * 8), 8) : 0;
}

StoredRefcounts::Lookup StoredRefcounts::get(uint64_t cluster, uint64_t& refcount, uint64_t& unaligned_block,
                                             uint64_t& unaligned_index) {
  refcount = 0;
  uint64_t table_index = cluster >> block_bits_;
  if (table_index >= table_entries_) return Lookup::ok;
  uint64_t block_offset = table_entry(table_index) & kRefTableOffsetMask;
  if (block_offset == 0) return Lookup::ok;
  uint64_t cluster_size = header_.cluster_size();
  if ((block_offset & (cluster_size - 1)) != 0) {
    unaligned_block = block_offset;
    unaligned_index = table_index;
    return Lookup::unaligned;
  }
  size_t slot = static_cast<size_t>((block_offset >> header_.cluster_bits) % kCacheSlots);
  if (!slot_valid_[slot] || slot_offset_[slot] != block_offset) {
    // qemu's block layer refuses I/O reaching past its ceiling; below it, the end of the file reads as zeros.
    if (block_offset > kQemuMaxIoOffset || cluster_size > kQemuMaxIoOffset - block_offset) return Lookup::io_error;
    slot_valid_[slot] = false;
    if (read_zero_padded(image_, block_offset, slots_[slot], static_cast<size_t>(cluster_size)).is_error())
      return Lookup::io_error;
    slot_offset_[slot] = block_offset;
    slot_valid_[slot] = true;
  }
  uint64_t index = cluster & ((uint64_t{1} << block_bits_) - 1);
  refcount = refcount_block_entry(ByteSpan(slots_[slot], static_cast<size_t>(cluster_size)),
                                  header_.refcount_order, index);
  return Lookup::ok;
}

}  // namespace instar::qcow2
