// bitmap_directory.h: the qcow2 persistent dirty bitmap directory, checked as qemu's bitmap_list_load.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/qcow2/header.h"

namespace instar {

inline constexpr uint64_t kQcow2BitmapEntryHeaderBytes = 24;
inline constexpr uint32_t kQcow2BitmapInUse = 1u << 0;
inline constexpr uint32_t kQcow2BitmapAuto = 1u << 1;

struct Qcow2Bitmap {
  ByteSpan name;  // into the directory bytes, cut at the first NUL (qemu's g_strndup)
  uint32_t granularity_bits;
  uint32_t flags;  // kQcow2BitmapInUse, kQcow2BitmapAuto; no other bit passes the checks
  uint64_t table_offset;
  uint32_t table_size;  // entries of 8 bytes
  uint8_t type;         // always 1 (dirty tracking) once checked
};

// Walks the directory in on-disk order with qemu's checks and messages:
//   "Requested bitmap directory size is zero" / "... is too big",
//   "Failed to read bitmap directory: Input/output error" (reaching past qemu's BDRV_MAX_LENGTH),
//   "Broken bitmap directory", "More bitmaps found than specified in header extension",
//   "Bitmap extra data is not supported", "Less bitmaps found than specified in header extension",
//   "Bitmap '<name>' doesn't satisfy the constraints" (Error.message drops the name: see
//   error_name() and format_error()).
// `dir` holds the directory bytes as read: it may stop short of ext.directory_size at the end of the file,
// and the missing bytes read as zero, as qemu's do. disk_size is qemu's bdrv_getlength(): the virtual size
// rounded down to a multiple of 512. qemu checks the whole directory before it uses any entry:
// drain next() (or call validate()) before acting on one.
class Qcow2BitmapReader {
 public:
  Qcow2BitmapReader(ByteSpan dir, const qcow2::BitmapsExtension& ext, uint64_t cluster_size,
                    uint64_t disk_size)
      : dir_(dir),
        dir_size_(ext.directory_size),
        dir_offset_(ext.directory_offset),
        nb_bitmaps_(ext.nb_bitmaps),
        cluster_size_(cluster_size),
        disk_size_(disk_size) {}

  // true with `out` filled, false after the last entry; an error repeats on every later call.
  Result<bool> next(Qcow2Bitmap& out);
  // Runs a copy of this reader to the end.
  Result<void> validate() const;

  uint32_t entries_read() const { return count_; }
  // The bitmap named by the last error ("doesn't satisfy the constraints"), else empty.
  ByteSpan error_name() const { return error_name_; }
  // qemu's exact text of the last error, NUL-terminated and cut to fit; returns its length (0 if none).
  size_t format_error(char* out, size_t capacity) const;

 private:
  Result<bool> fail(Error error);

  ByteSpan dir_;
  uint64_t dir_size_;
  uint64_t dir_offset_;
  uint32_t nb_bitmaps_;
  uint64_t cluster_size_;
  uint64_t disk_size_;
  uint64_t position_ = 0;
  uint32_t count_ = 0;
  bool failed_ = false;
  Error error_{};
  ByteSpan error_name_;
};

// qemu's check_table_entry() for one entry of a bitmap table, which it applies when it loads a bitmap
// that is not in use ("Could not read bitmap_table table from image for bitmap '<name>': Invalid argument").
bool qcow2_bitmap_table_entry_valid(uint64_t entry, uint64_t cluster_size);

}  // namespace instar
