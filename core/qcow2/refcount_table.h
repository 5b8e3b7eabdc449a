// refcount_table.h: the stored reference counts of a qcow2 image: the refcount
// table, its refcount blocks, and entries of any width from 1 to 64 bits.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/io/block_device.h"
#include "core/qcow2/header.h"

namespace instar::qcow2 {

inline constexpr uint64_t kRefTableOffsetMask = 0xfffffffffffffe00ull;
inline constexpr uint64_t kRefTableReservedMask = 0x1ffull;

// Entry `index` of a refcount block in the on-disk encoding for 2^order bits:
// sub-byte widths pack from the least significant bit, wider ones are big-endian.
uint64_t refcount_block_entry(ByteSpan block, uint32_t order, uint64_t index);

// What qemu's qcow2_get_refcount() sees: the table as read at open (zeros past
// the end of the file) and blocks fetched through a small cache.
class StoredRefcounts {
 public:
  StoredRefcounts(BlockDevice& image, const Header& header) : image_(image), header_(header) {}

  // Reads the refcount table and sets up the block cache.
  Result<void> load(Arena& scratch);

  uint64_t table_entries() const { return table_entries_; }
  uint64_t table_entry(uint64_t index) const;
  ByteSpan table() const { return table_; }

  // The stored refcount of host cluster `cluster`. An unaligned refcount block
  // is an error; `unaligned_block` then holds its offset and `unaligned_index`
  // its table index (qemu reports it as corruption). A block beyond qemu's I/O
  // ceiling is an I/O error.
  enum class Lookup : uint8_t { ok, unaligned, io_error };
  Lookup get(uint64_t cluster, uint64_t& refcount, uint64_t& unaligned_block, uint64_t& unaligned_index);

 private:
  static constexpr size_t kCacheSlots = 8;

  BlockDevice& image_;
  const Header& header_;
  ByteSpan table_;
  uint64_t table_entries_ = 0;
  uint32_t block_bits_ = 0;  // log2 of entries per block
  uint8_t* slots_[kCacheSlots] = {};
  uint64_t slot_offset_[kCacheSlots] = {};
  bool slot_valid_[kCacheSlots] = {};
};

}  // namespace instar::qcow2
