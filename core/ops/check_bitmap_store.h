// check_bitmap_store.h: check -r on an image with persistent bitmaps: qemu
// opened it read-write, so it stores the bitmaps back when it closes it. Loads
// them as qemu's read-write open does, plans the store
// (core/qcow2/bitmap_store_plan.h) with its refcount writes and header field,
// validates all of it, and issues it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/io/block_device.h"
#include "core/qcow2/bitmap_store_plan.h"
#include "core/qcow2/header.h"
#include "core/qcow2/refcount_repair_plan.h"

namespace instar {

struct CheckBitmapStore {
  qcow2::BitmapStorePlan store;
  qcow2::RepairPlan refcounts;   // its discards are not issued: qemu frees bitmap clusters without one
  uint64_t directory_field = 0;  // where the bitmaps extension's directory_offset lies in the header
};

// Plans the store over `refcounts`, the refcounts once the repair is written.
// Refuses (an error, nothing planned) what qemu would do otherwise or what
// instar cannot predict: a table or data cluster not wholly inside the file, a
// table entry qemu's load rejects or that reads as all ones, set bits past the
// bitmap's end, a header qemu's rewrite would change beyond the extension, a
// refcount write the repair planner cannot do in place (no refcount block for a
// new cluster: qemu would allocate one).
Result<CheckBitmapStore> plan_check_bitmap_store(BlockDevice& image, const qcow2::Header& h,
                                                 const qcow2::Extensions& ext,
                                                 const qcow2::ClusterCounts& refcounts,
                                                 uint64_t snapshot_table_bytes, Arena& scratch);

// Issues a planned store: the directory in place, data clusters, tables, the new directory, the
// refcounts, then the header's directory_offset. The device must reach store.file_size.
Result<void> apply_check_bitmap_store(BlockDevice& image, const CheckBitmapStore& plan, Arena& scratch);

// Where a program without bitmap support cleared the bitmaps autoclear bit, qemu's read-write open
// drops the extension: it rewrites the header without it (the bitmap clusters are then leaks the
// check finds). The bytes of the first cluster that rewrite changes, [begin, end) of `header`.
struct BitmapsExtensionDrop {
  const uint8_t* header = nullptr;  // the first cluster as qemu writes it
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Refuses where qemu's rewrite with the extension kept would not give the first cluster as it is
// (so the bytes without it cannot be predicted), for a v2 header, or a file shorter than a cluster.
Result<BitmapsExtensionDrop> plan_bitmaps_extension_drop(BlockDevice& image, const qcow2::Header& h,
                                                         Arena& scratch);

}  // namespace instar
