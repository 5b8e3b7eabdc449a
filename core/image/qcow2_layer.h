// qcow2_layer.h: the qcow2 format as a Layer: L1/L2 (standard and extended)
// lookups, cluster and subcluster types, and what qemu's qcow2 driver answers
// for block status.
#pragma once

#include "core/base/arena.h"
#include "core/image/block_status.h"
#include "core/image/corruption_event.h"
#include "core/ops/qcow2_open.h"

namespace instar::image {

// Entries in one slice of qemu's L2 table cache for an image of `virtual_size` bytes (qemu's
// read_cache_sizes without cache options): a whole table, or 4 KiB of it when the default 32 MiB cache
// cannot hold every table. qemu's block status never runs past a slice.
uint32_t l2_slice_entries(uint64_t virtual_size, uint32_t cluster_bits, uint32_t l2_entry_bytes);

class Qcow2Layer final : public Layer {
 public:
  Qcow2Layer() = default;
  ~Qcow2Layer() = default;

  // `data` is the external data file (its device number `data_number`), or
  // the image itself. Loads the L1 and refcount tables from scratch memory.
  Result<void> init(BlockDevice& image, const qcow2::OpenedImage& opened, BlockDevice& data,
                    uint8_t data_number, Arena& scratch);

  Result<Status> driver_status(uint64_t offset, uint64_t bytes) override;
  Result<void> read_allocated(uint64_t offset, uint8_t* out, size_t length, const Status& status) override;

  uint64_t cluster_size() const { return uint64_t{1} << cluster_bits_; }

  // qemu's qcow2_snapshot_load_tmp: an internal snapshot's L1 table (already
  // validated) replaces the active one; the virtual size stays the image's.
  Result<void> load_snapshot_l1(uint64_t l1_offset, uint32_t l1_size, Arena& scratch);

  // The corruption event qemu's driver would have printed for this image so far (none: not signaled).
  const CorruptionEvent& corruption_event() const { return event_; }
  // Where the operation numbers its events (none: every event numbered 0).
  void set_event_clock(EventClock* clock) { event_clock_ = clock; }
  // The operation only reads (qemu-img dd): qemu never asks for block status,
  // so its metadata-preallocation walk (and that walk's event) never runs.
  void set_reads_only(bool reads_only) { reads_only_ = reads_only; }

 private:
  enum class Type : uint8_t {
    normal,
    compressed,
    zero_plain,
    zero_alloc,
    unallocated_plain,
    unallocated_alloc,
    invalid
  };

  Result<const uint8_t*> l2_table(uint64_t l2_offset);
  Type subcluster_type(uint64_t entry, uint64_t bitmap, uint32_t sc) const;
  // Subclusters from `sc` on with the type of `sc`; -1 for an invalid entry.
  int32_t range_type(uint64_t entry, uint64_t bitmap, uint32_t sc, Type* type) const;
  Result<uint64_t> refcount(uint64_t cluster);
  // The L2 entry (first word) for guest offset `offset`; 0 where no L2 table maps it.
  Result<uint64_t> l2_entry_at(uint64_t offset);
  Result<void> read_compressed(uint64_t offset, uint8_t* out, size_t length);
  bool detect_metadata_preallocation();

  BlockDevice* image_ = nullptr;
  BlockDevice* data_ = nullptr;
  uint8_t data_number_ = 0;
  uint32_t cluster_bits_ = 16;
  uint32_t subcluster_bits_ = 16;
  uint32_t subclusters_ = 1;  // per cluster: 32 with extended L2 entries
  uint32_t l2_entry_bytes_ = 8;
  uint32_t l2_entries_ = 0;  // per table
  uint32_t slice_entries_ = 0;  // per slice of qemu's L2 cache: the most one status answer covers
  uint32_t version_ = 3;
  uint32_t refcount_order_ = 4;
  bool external_data_ = false;
  bool encrypted_ = false;
  const uint8_t* l1_ = nullptr;
  uint32_t l1_size_ = 0;
  const uint8_t* reftable_ = nullptr;
  uint64_t reftable_entries_ = 0;

  static constexpr size_t kL2Slots = 8;
  uint8_t* l2_buffer_[kL2Slots] = {};
  uint64_t l2_cached_[kL2Slots] = {};  // the table offset in each slot, 0 when empty
  size_t l2_next_ = 0;
  uint8_t* refblock_ = nullptr;
  uint64_t refblock_cached_ = 0;

  uint8_t compression_type_ = 0;
  Arena* scratch_ = nullptr;
  struct CompressedSpan {
    uint64_t offset;
    uint64_t length;
  };
  Result<CompressedSpan> compressed_span(uint64_t entry) const;

  uint8_t* compressed_in_ = nullptr;  // compressed bytes of one or more clusters that follow on in the file
  uint64_t compressed_capacity_ = 0;  // a cluster + a sector, at least 256 KiB
  uint64_t run_offset_ = 0;           // file offset of compressed_in_[0]
  uint64_t run_length_ = 0;           // bytes held, 0 when none
  uint8_t* decompressed_ = nullptr;   // the cluster last decompressed
  uint64_t decompressed_entry_ = 0;   // its L2 entry, 0 when none

  CorruptionEvent event_;
  EventClock* event_clock_ = nullptr;
  bool reads_only_ = false;
  bool prealloc_checked_ = false;
  bool metadata_preallocation_ = false;
};

}  // namespace instar::image
