// refcount_check_patches.h: the L2 entries check -r all rewrites while it
// counts (qemu's fix_l2_entry_by_zero writes an unaligned preallocated zero
// cluster's entry as a plain zero cluster at once, and every later read of
// the check sees it). instar plans them: the check reads the image through a
// view with the planned entries in place, and the caller writes them first.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/io/block_device.h"
#include "core/qcow2/refcount_repair_plan.h"

namespace instar::qcow2 {

// One rewritten L2 entry: `length` (8, or 16 with extended L2) bytes at `offset`.
struct L2EntryPatch {
  uint64_t offset = 0;
  uint8_t bytes[16] = {};
  uint8_t length = 0;
};

// The entry qemu writes for an unaligned preallocated zero cluster: a plain zero cluster
// (QCOW_OFLAG_ZERO), or with extended L2 entry 0 and every allocated subcluster turned zero.
L2EntryPatch zeroed_l2_entry(uint64_t entry_offset, bool extended_l2, uint64_t bitmap);

// What qemu's metadata overlap check (default mode) guards when it rewrites an active L2 entry: the
// header cluster, the active L1 table, the refcount table, the snapshot table and the refcount blocks
// the table names. Offsets and lengths in bytes; `refcount_table` holds the big-endian entries.
struct ZeroFixLayout {
  uint32_t cluster_bits = 16;
  uint64_t file_size = 0;
  uint64_t l1_offset = 0, l1_bytes = 0;
  uint64_t refcount_table_offset = 0, refcount_table_bytes = 0;
  uint64_t snapshot_table_offset = 0, snapshot_table_bytes = 0;
  ByteSpan refcount_table;
};

// Whether qemu's write of `patch` passes its overlap check and lands wholly inside the file (where it
// would not, qemu marks the image corrupt or grows the file: not reproduced).
bool zero_fix_allowed(const ZeroFixLayout& layout, const L2EntryPatch& patch);

// The image as the check sees it once the planned entries are written. Reads only.
class PatchedImage final : public BlockDevice {
 public:
  explicit PatchedImage(BlockDevice& base) : base_(base) {}

  uint64_t size() const override { return base_.size(); }
  Result<void> read(uint64_t offset, void* buffer, size_t length) override;
  Result<void> write(uint64_t, const void*, size_t) override {
    return make_error(Errc::io, "the check's view of the image is read-only");
  }
  Result<DeviceExtent> extent(uint64_t offset) override { return base_.extent(offset); }

  // Adds a patch (entries never overlap: each is one L2 entry, rewritten once). Fails past
  // kMaxPatches or when the arena is full.
  Result<void> add(const L2EntryPatch& patch, Arena& scratch);
  const L2EntryPatch* patches() const { return patches_; }
  size_t count() const { return count_; }

  static constexpr size_t kMaxPatches = 65536;

 private:
  BlockDevice& base_;
  L2EntryPatch* patches_ = nullptr;
  size_t count_ = 0;
  size_t capacity_ = 0;
};

}  // namespace instar::qcow2
