// compare_record.h: the record of `compare`: how far the open of the two
// chains got, both sizes, the verdict with the offset qemu-img prints, and
// with -p the progress lines (core/ops/progress_record.h).
#pragma once

#include <stdint.h>

namespace instar {

enum CompareTag : uint16_t {
  kCompareOpened1 = 800,      // present once the first image's chain opened
  kCompareOpened2 = 801,      // present once the second image's chain opened
  kCompareSize1 = 802,
  kCompareSize2 = 803,
  kCompareSizeWarning = 804,  // present: "Warning: Image size mismatch!" was due (the common part matched)
  kCompareResult = 805,       // CompareResult
  kCompareOffset = 806,       // for a mismatch or a failed read
  kCompareImage = 807,        // 1 or 2: the image a failure belongs to
  kCompareLinesBeforeWarning = 808,  // -p: progress lines printed before the size warning
};

enum class CompareResult : uint64_t {
  identical = 0,
  content_mismatch = 1,   // "Content mismatch at offset N!"
  status_mismatch = 2,    // -s: "Strict mode: Offset N block status mismatch!"
  size_mismatch = 3,      // -s: "Strict mode: Image size mismatch!"
  status_failed = 4,      // "Sector allocation test failed for F" (exit 3); the error follows
  read_failed = 5,        // "Error while reading offset N of F: E" (exit 4); the error follows
};

}  // namespace instar
