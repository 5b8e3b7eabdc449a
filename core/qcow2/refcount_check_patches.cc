// refcount_check_patches.cc: see refcount_check_patches.h.
#include "core/qcow2/refcount_check_patches.h"

#include "core/base/span_reader.h"

namespace instar::qcow2 {

namespace {

constexpr uint64_t kOflagZero = 1;
constexpr uint64_t kBitmapAllZeroes = 0xffffffff00000000ull;
constexpr uint64_t kRefTableOffsetMaskBits = 0xfffffffffffffe00ull;

void store_be64(uint8_t* out, uint64_t v) {
  for (size_t i = 0; i < 8; i++) out[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}

// [a, a + a_length) and [b, b + b_length) share a byte; lengths of 0 share nothing.
bool overlap(uint64_t a, uint64_t a_length, uint64_t b, uint64_t b_length) {
  if (a_length == 0 || b_length == 0) return false;
  return a < b ? b - a < a_length : a - b < b_length;
}

}  // namespace

L2EntryPatch zeroed_l2_entry(uint64_t entry_offset, bool extended_l2, uint64_t bitmap) {
  L2EntryPatch p;
  p.offset = entry_offset;
  if (extended_l2) {
    bitmap |= bitmap << 32;
    bitmap &= kBitmapAllZeroes;
    store_be64(p.bytes, 0);
    store_be64(p.bytes + 8, bitmap);
    p.length = 16;
  } else {
    store_be64(p.bytes, kOflagZero);
    p.length = 8;
  }
  return p;
}

bool zero_fix_allowed(const ZeroFixLayout& layout, const L2EntryPatch& patch) {
  const uint64_t cluster_size = uint64_t{1} << layout.cluster_bits;
  if (patch.length == 0 || patch.offset > layout.file_size || layout.file_size - patch.offset < patch.length)
    return false;
  if (patch.offset < cluster_size) return false;  // the header
  // qemu widens the write to whole clusters before comparing.
  const uint64_t start = patch.offset & ~(cluster_size - 1);
  const uint64_t end = patch.offset + patch.length;
  const uint64_t length = ((end + cluster_size - 1) & ~(cluster_size - 1)) - start;
  if (overlap(start, length, layout.l1_offset, layout.l1_bytes)) return false;
  if (overlap(start, length, layout.refcount_table_offset, layout.refcount_table_bytes)) return false;
  if (overlap(start, length, layout.snapshot_table_offset, layout.snapshot_table_bytes)) return false;
  for (size_t at = 0; at + 8 <= layout.refcount_table.size; at += 8) {
    uint64_t block = load_be(layout.refcount_table, at, 8) & kRefTableOffsetMaskBits;
    if (block != 0 && overlap(start, length, block, cluster_size)) return false;
  }
  return true;
}

Result<void> PatchedImage::read(uint64_t offset, void* buffer, size_t length) {
  INSTAR_TRY(base_.read(offset, buffer, length));
  auto* out = static_cast<uint8_t*>(buffer);
  for (size_t i = 0; i < count_; i++) {
    const L2EntryPatch& p = patches_[i];
    if (!overlap(offset, length, p.offset, p.length)) continue;
    for (uint64_t b = 0; b < p.length; b++) {
      uint64_t at = p.offset + b;
      if (at >= offset && at - offset < length) out[at - offset] = p.bytes[b];
    }
  }
  return ok();
}

Result<void> PatchedImage::add(const L2EntryPatch& patch, Arena& scratch) {
  if (count_ >= kMaxPatches) return make_error(Errc::too_large, "too many L2 entries to rewrite");
  if (count_ == capacity_) {
    size_t grown = capacity_ == 0 ? 16 : capacity_ * 2;
    INSTAR_TRY_ASSIGN(memory, scratch.allocate_array<L2EntryPatch>(grown));
    for (size_t i = 0; i < count_; i++) memory[i] = patches_[i];
    patches_ = memory;
    capacity_ = grown;
  }
  patches_[count_++] = patch;
  return ok();
}

}  // namespace instar::qcow2
