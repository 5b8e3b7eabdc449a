// measure_plan.h: qemu-img measure's arithmetic: the size a new raw or qcow2
// image needs (`required`) and would reach fully allocated, from creation
// options and, for a source image, the bytes its data clusters cover.
// Pure functions over numbers: no I/O, so the fuzz target can drive them.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/result.h"

namespace instar::measure {

inline constexpr uint64_t kMinClusterSize = 512;
inline constexpr uint64_t kMaxClusterSize = 2u << 20;
inline constexpr uint64_t kDefaultClusterSize = 65536;
inline constexpr uint64_t kMinExtendedL2ClusterSize = 16384;  // 512-byte subclusters, 32 per cluster
inline constexpr uint64_t kMaxL1Bytes = 32u << 20;            // QCOW_MAX_L1_SIZE
inline constexpr size_t kClusterSizeCount = 13;                // 512 .. 2 MiB

enum class Prealloc : uint8_t { off, metadata, falloc, full };

// qcow2 creation options measure reads, already parsed (the CLI parses the text).
struct Qcow2Options {
  uint64_t cluster_size = kDefaultClusterSize;
  bool extended_l2 = false;
  int version = 3;  // compat=0.10 is 2, compat=1.1 (the default) is 3
  uint64_t refcount_bits = 16;
  Prealloc prealloc = Prealloc::off;
  bool has_backing_file = false;  // -o backing_file=...: every cluster counts as required
  uint64_t luks_payload = 0;      // bytes of a LUKS header (before rounding to clusters), 0 without one
  uint64_t size = 0;              // the size option (--size N or -o size=N), 0 when absent
};

// What the source image contributes (source mode).
struct Source {
  uint64_t length = 0;      // bdrv_getlength(): the virtual size qemu's block layer sees
  uint64_t data_bytes = 0;  // target clusters holding data, times the target cluster size
  bool bitmaps_supported = false;  // a qcow2 v3 source: qemu reports "bitmaps"
  uint64_t bitmaps_size = 0;       // qcow2_bitmaps_size() for the target cluster size
};

struct Measurement {
  uint64_t required = 0;
  uint64_t fully_allocated = 0;
  bool has_bitmaps = false;
  uint64_t bitmaps = 0;
};

// Checks in the order qcow2_measure makes them, each with qemu's message.
Result<void> check_cluster_size(uint64_t cluster_size, bool extended_l2);
Result<void> check_refcount_bits(uint64_t refcount_bits, int version);

// qcow2_measure after option parsing: the L1 size check, then the sizes.
// `source` is null in --size mode.
Result<Measurement> plan_qcow2(const Qcow2Options& options, const Source* source);

// raw_measure: the size option rounded up to 512 bytes, or the source's length.
Measurement plan_raw(uint64_t size, const Source* source);

// qcow2_calc_prealloc_size: header, L2 and L1 tables, refcount metadata and data.
uint64_t qcow2_prealloc_size(uint64_t total_size, uint64_t cluster_size, uint32_t refcount_order,
                             bool extended_l2);
// qcow2_refcount_metadata_size: refcount blocks and table for `clusters` clusters, found as a fixed point.
uint64_t qcow2_refcount_metadata_size(uint64_t clusters, uint64_t cluster_size, uint32_t refcount_order);

// One persistent bitmap of the source as measure counts it.
struct BitmapSpec {
  uint64_t name_length = 0;
  uint32_t granularity_bits = 16;
};
// qcow2_get_persistent_dirty_bitmap_size: each bitmap fully allocated, its
// table, and the directory, in `cluster_size` clusters. Errors only on overflow.
Result<uint64_t> qcow2_bitmaps_size(const BitmapSpec* bitmaps, size_t count, uint64_t disk_size,
                                    uint64_t cluster_size);

// qemu_measure's walk over the source's block status: each extent that holds
// data counts the whole target clusters it touches, once. Counts for every
// possible target cluster size at once, so the walk runs before the target
// is known. Feed data extents in increasing offset order.
class DataCounter {
 public:
  void add_data(uint64_t offset, uint64_t length);
  // Bytes counted for `cluster_size` (a power of two in 512 .. 2 MiB).
  uint64_t bytes_for(uint64_t cluster_size) const;
  uint64_t clusters_at(size_t index) const { return clusters_[index]; }

 private:
  uint64_t clusters_[kClusterSizeCount] = {};
  uint64_t next_[kClusterSizeCount] = {};  // first offset not yet inside a counted cluster
};

// Index of a cluster size in DataCounter (log2 - 9), or kClusterSizeCount when not one.
size_t cluster_size_index(uint64_t cluster_size);

}  // namespace instar::measure
