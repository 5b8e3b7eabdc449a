// bitmap_directory.cc: bitmap directory entries, checked in qemu's order with qemu's arithmetic.
#include "core/qcow2/bitmap_directory.h"

#include "core/base/padded.h"

namespace instar {
namespace {

// Byte offsets of a directory entry's fixed part; extra data, then the name, follow it.
constexpr uint64_t kTableOffset = 0;
constexpr uint64_t kTableSize = 8;
constexpr uint64_t kFlags = 12;
constexpr uint64_t kType = 16;
constexpr uint64_t kGranularityBits = 17;
constexpr uint64_t kNameSize = 18;
constexpr uint64_t kExtraDataSize = 20;

// check_dir_entry()'s limits (BME_* in qemu).
constexpr uint32_t kMaxTableSize = 0x8000000;
constexpr uint64_t kMaxPhysBytes = 0x20000000;
constexpr uint32_t kMaxGranularityBits = 31;
constexpr uint32_t kMinGranularityBits = 9;
constexpr uint32_t kMaxNameSize = 1023;
constexpr uint32_t kReservedFlags = 0xfffffffcu;
constexpr uint8_t kTypeDirtyTracking = 1;

constexpr const char* kConstraints = "Bitmap doesn't satisfy the constraints";

// qemu's dir_entry_size(): an int sum rounded up to 8, so a huge extra_data_size wraps (qemu is
// built with -fwrapv) and can step backwards.
int64_t qemu_entry_size(uint64_t name_size, uint64_t extra_data_size) {
  uint32_t sum = static_cast<uint32_t>(kQcow2BitmapEntryHeaderBytes + name_size + extra_data_size);
  return static_cast<int32_t>((sum + 7u) & ~7u);
}

bool entry_fits_constraints(const Qcow2Bitmap& b, uint32_t name_size, uint64_t cluster_size,
                            uint64_t disk_size) {
  if (b.table_size == 0 || b.table_offset == 0 || cluster_size == 0 || b.table_offset % cluster_size != 0 ||
      b.table_size > kMaxTableSize || b.granularity_bits > kMaxGranularityBits ||
      b.granularity_bits < kMinGranularityBits || (b.flags & kReservedFlags) != 0 ||
      name_size > kMaxNameSize || b.type != kTypeDirtyTracking)
    return false;
  // table_size <= 2^27 and the cluster size <= 2 MiB keep these products far from wrapping.
  uint64_t phys_bytes = uint64_t{b.table_size} * cluster_size;
  if (phys_bytes > kMaxPhysBytes) return false;
  // An in-use bitmap may be stale after a resize; a consistent one must cover the disk.
  if ((b.flags & kQcow2BitmapInUse) == 0 && disk_size > ((phys_bytes * 8) << b.granularity_bits))
    return false;
  return true;
}

}  // namespace

Result<bool> Qcow2BitmapReader::fail(Error error) {
  failed_ = true;
  error_ = error;
  return error_;
}

Result<bool> Qcow2BitmapReader::next(Qcow2Bitmap& out) {
  if (failed_) return error_;
  // qemu never loads the directory of an image without bitmaps.
  if (nb_bitmaps_ == 0) return false;
  if (position_ == 0 && count_ == 0) {
    if (dir_size_ == 0) return fail(make_error(Errc::invalid, "Requested bitmap directory size is zero"));
    if (dir_size_ > qcow2::kMaxBitmapDirectoryBytes)
      return fail(make_error(Errc::too_large, "Requested bitmap directory size is too big"));
    if (dir_offset_ > kQemuMaxIoOffset || dir_size_ > kQemuMaxIoOffset - dir_offset_)
      return fail(make_error(Errc::io, "Failed to read bitmap directory: Input/output error"));
    dir_ = dir_.subspan(0, static_cast<size_t>(dir_size_));
  }

  uint64_t pos = position_;
  if (pos >= dir_size_) {
    if (count_ != nb_bitmaps_)
      return fail(make_error(Errc::invalid, "Less bitmaps found than specified in header extension"));
    return false;
  }
  if (pos + kQcow2BitmapEntryHeaderBytes > dir_size_)
    return fail(make_error(Errc::invalid, "Broken bitmap directory"));
  if (++count_ > nb_bitmaps_)
    return fail(make_error(Errc::invalid, "More bitmaps found than specified in header extension"));

  uint32_t name_size = static_cast<uint32_t>(load_be_padded(dir_, pos + kNameSize, 2));
  uint32_t extra = static_cast<uint32_t>(load_be_padded(dir_, pos + kExtraDataSize, 4));
  int64_t next_pos = static_cast<int64_t>(pos) + qemu_entry_size(name_size, extra);
  if (next_pos > static_cast<int64_t>(dir_size_))
    return fail(make_error(Errc::invalid, "Broken bitmap directory"));
  if (extra != 0) return fail(make_error(Errc::unsupported, "Bitmap extra data is not supported"));

  Qcow2Bitmap b{};
  b.table_offset = load_be_padded(dir_, pos + kTableOffset, 8);
  b.table_size = static_cast<uint32_t>(load_be_padded(dir_, pos + kTableSize, 4));
  b.flags = static_cast<uint32_t>(load_be_padded(dir_, pos + kFlags, 4));
  b.type = static_cast<uint8_t>(load_be_padded(dir_, pos + kType, 1));
  b.granularity_bits = static_cast<uint32_t>(load_be_padded(dir_, pos + kGranularityBits, 1));
  b.name = c_string_at(dir_, pos + kQcow2BitmapEntryHeaderBytes + extra, name_size);
  if (!entry_fits_constraints(b, name_size, cluster_size_, disk_size_)) {
    error_name_ = b.name;
    return fail(make_error(Errc::invalid, kConstraints));
  }

  position_ = static_cast<uint64_t>(next_pos);
  out = b;
  return true;
}

Result<void> Qcow2BitmapReader::validate() const {
  Qcow2BitmapReader copy = *this;
  Qcow2Bitmap b{};
  for (;;) {
    Result<bool> r = copy.next(b);
    if (r.is_error()) return r.error();
    if (!r.value()) return ok();
  }
}

size_t Qcow2BitmapReader::format_error(char* out, size_t capacity) const {
  if (capacity == 0) return 0;
  size_t len = 0;
  auto put = [&](char c) {
    if (len + 1 < capacity) out[len++] = c;
  };
  if (failed_) {
    if (error_.message == kConstraints) {
      for (const char* p = "Bitmap '"; *p != '\0'; p++) put(*p);
      for (size_t i = 0; i < error_name_.size; i++) put(static_cast<char>(error_name_[i]));
      for (const char* p = "' doesn't satisfy the constraints"; *p != '\0'; p++) put(*p);
    } else {
      for (const char* p = error_.message; *p != '\0'; p++) put(*p);
    }
  }
  out[len] = '\0';
  return len;
}

bool qcow2_bitmap_table_entry_valid(uint64_t entry, uint64_t cluster_size) {
  constexpr uint64_t kReservedMask = 0xff000000000001feull;
  constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ull;
  constexpr uint64_t kAllOnes = 1;
  if ((entry & kReservedMask) != 0) return false;
  uint64_t offset = entry & kOffsetMask;
  if (offset != 0) {
    if ((entry & kAllOnes) != 0) return false;  // with an offset, bit 0 is reserved
    if (cluster_size == 0 || offset % cluster_size != 0) return false;
  }
  return true;
}

}  // namespace instar
