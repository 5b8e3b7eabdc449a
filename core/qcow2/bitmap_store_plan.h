// bitmap_store_plan.h: qemu's store of persistent dirty bitmaps when it closes
// an image it opened read-write (check -r), planned before any write. Pure: no
// I/O, so the plan is validated whole first and a fuzz target can check it.
//
// Measured with qemu-img 7.2 and 10.0 (the same bytes): on open qemu rewrites
// the directory in place with the in-use flag set on every bitmap it loads (a
// bitmap already in use is not loaded, and is kept as it is); on close it
// stores each loaded bitmap in directory order — a new data cluster for each
// table entry whose range holds a set bit, then a new table — then writes a
// new directory, points the bitmaps extension at it, and frees the old tables,
// data clusters and directory (refcount 0; only the data clusters are discarded). Every allocation is
// qemu's first fit from cluster 0 over the refcounts the repair left; nothing
// is freed before the directory is written.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/qcow2/refcount_rebuild_plan.h"
#include "core/qcow2/refcount_repair_plan.h"

namespace instar::qcow2 {

// A directory entry as loaded, with what its table holds.
struct StoredBitmap {
  ByteSpan name;  // the name bytes as stored (name_size bytes)
  uint32_t flags = 0;
  uint8_t granularity_bits = 16;
  uint64_t table_offset = 0;
  uint32_t table_size = 0;
  // table_size entries: the data cluster holding set bits of the entry's range (qemu copies it),
  // 0 where the range holds none. Unused for a bitmap in use.
  const uint64_t* data = nullptr;
  // The table's entries as stored (table_size of them): the clusters qemu frees with the table.
  const uint64_t* old_entries = nullptr;
};

struct BitmapStoreLayout {
  uint32_t cluster_bits = 16;  // 9..21
  uint64_t file_size = 0;
  uint64_t disk_size = 0;  // the virtual size rounded down to 512 (qemu's bdrv_getlength)
  uint64_t directory_offset = 0;
  uint64_t directory_size = 0;
  const StoredBitmap* bitmaps = nullptr;
  size_t bitmap_count = 0;
  ClusterCounts refcounts;  // every cluster's refcount once the repair is written (0 past the end)
};

// One write of bytes the plan holds, or a copy of a whole data cluster.
struct BitmapWrite {
  uint64_t offset = 0;
  const uint8_t* bytes = nullptr;  // nullptr: copy the cluster at `from`
  uint64_t length = 0;
  uint64_t from = 0;
};

struct BitmapStorePlan {
  bool stores = false;  // false: every bitmap is in use, qemu loads and writes nothing
  // In qemu's order: the directory in place (in-use flags), data copies and tables, the new directory.
  const BitmapWrite* writes = nullptr;
  size_t write_count = 0;
  // The refcount changes: 1 for each new cluster, 0 for each freed one, by increasing cluster.
  const RefcountFix* refcounts = nullptr;
  size_t refcount_count = 0;
  // The old data clusters, freed with a discard (the file gets a hole; the old tables and directory
  // keep their bytes), one cluster each, after the refcounts.
  const RepairDiscard* discards = nullptr;
  size_t discard_count = 0;
  uint64_t new_directory_offset = 0;
  uint64_t file_size = 0;  // the file's length once written (it grows when qemu's clusters lie past it)
};

// Plans qemu's store. Fails, planning nothing, where qemu would do something
// else or instar cannot tell what: a name with a NUL or a directory whose size
// qemu would compute differently, a table size qemu would compute differently,
// a freed cluster whose refcount is not 1 or freed twice, a cluster past 2^40.
Result<BitmapStorePlan> plan_bitmap_store(const BitmapStoreLayout& layout, Arena& scratch);

// qemu's bitmap table size for a bitmap of `disk_size` bytes: clusters of serialised bits.
uint64_t bitmap_table_size(uint64_t disk_size, uint32_t granularity_bits, uint32_t cluster_bits);

}  // namespace instar::qcow2
