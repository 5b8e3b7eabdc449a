// measure_snapshot.h: `measure -l`: finding the internal snapshot the request
// names and reading the source through its L1 table, as qemu's
// bdrv_snapshot_load_tmp does for qemu-img measure.
#pragma once

#include "core/base/arena.h"
#include "core/image/chain.h"
#include "core/ops/execute.h"
#include "core/qcow2/snapshot_table.h"

namespace instar {

// The index of the snapshot `key` selects among `reader`'s entries, or -1.
// id_or_name tries the id first, then the name (bdrv_snapshot_load_tmp_by_id_or_name);
// id_and_name needs every key given to match one entry, and matches nothing without keys.
Result<int64_t> find_measure_snapshot(const MeasureParams& key, Qcow2SnapshotReader reader,
                                      Qcow2Snapshot& found);

// Replaces the chain's top L1 table with the snapshot's. Errors are qemu's
// (without its "Failed to load snapshot: " prefix): "Can't find snapshot",
// "Snapshot L1 table too large", "Snapshot L1 table offset invalid", and for a
// raw source "Block format 'raw' used by device '' does not support temporarily
// loading internal snapshots".
Result<void> load_measure_snapshot(const Request& request, const Devices& devices, image::Chain& chain,
                                   Arena& scratch);

}  // namespace instar
