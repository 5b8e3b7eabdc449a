// measure_record.h: the record of `measure` in source mode: what the source
// image contributes to the size of a new image. The host, which knows the
// target's options, finishes the sum (core/ops/measure_plan.h).
#pragma once

#include <stdint.h>

namespace instar {

enum MeasureTag : uint16_t {
  kMeasureFormat = 700,         // the source's driver name
  kMeasureLength = 701,         // bdrv_getlength() of the source
  kMeasureBitmapsSupported = 702,  // a qcow2 v3 source: qemu prints "bitmaps"
  kMeasureSnapshotFailed = 703,    // -l: the error is bdrv_snapshot_load_tmp's ("Failed to load snapshot: ")
  kMeasureBitmap = 710,         // group, one per persistent bitmap of the source
  kMeasureBitmapNameLength = 711,
  kMeasureBitmapGranularityBits = 712,
  // Target clusters touched by the source's data, for each target cluster size:
  // tag kMeasureDataClusters + i is the count for a cluster of 512 << i bytes (i < 13).
  kMeasureDataClusters = 720,
};

}  // namespace instar
