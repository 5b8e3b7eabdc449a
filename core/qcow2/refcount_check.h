// refcount_check.h: qemu's qcow2 consistency check, read-only: count every
// reference the metadata makes to each host cluster and compare with the
// stored refcounts (qemu's qcow2_check_refcounts without repair).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/io/block_device.h"
#include "core/qcow2/header.h"

namespace instar::qcow2 {

// qemu's BdrvCheckResult: the counters qemu-img check prints.
struct CheckCounts {
  uint64_t check_errors = 0;
  uint64_t corruptions = 0;
  uint64_t leaks = 0;
  uint64_t total_clusters = 0;
  uint64_t allocated_clusters = 0;
  uint64_t fragmented_clusters = 0;
  uint64_t compressed_clusters = 0;
  uint64_t image_end_offset = 0;
};

// The errno values a failed check reports ("Check failed: <strerror>").
inline constexpr int kCheckEio = 5;
inline constexpr int kCheckEnomem = 12;
inline constexpr int kCheckEinval = 22;
inline constexpr int kCheckEfbig = 27;

// Where the lines qemu prints while it checks go, in order.
class CheckLog {
 public:
  // A line qemu writes with fprintf(stderr) (no program name), without its newline.
  virtual void line(ByteSpan text) = 0;
  // A line qemu writes with error_report() ("<program>: " in front), without its newline.
  virtual void error_line(ByteSpan text) = 0;

 protected:
  ~CheckLog() = default;
};

// What the check needs from the opened image.
struct CheckInput {
  const Header* header = nullptr;
  const Extensions* ext = nullptr;
  bool has_data_file = false;
  // The snapshot table bytes as read (clipped at the end of the file), re-read in check mode.
  ByteSpan snapshot_table;
};

// Runs the check. Returns 0, or the errno of a check that could not complete
// (qemu then prints "Check failed: ..." and no summary). `counts` holds what
// was found either way. Memory: one counter per host cluster of the file (2
// bytes for refcount widths up to 16 bits, 4 above) plus a few clusters.
int check_refcounts(BlockDevice& image, const CheckInput& input, Arena& scratch, CheckLog& log,
                    CheckCounts& counts);

}  // namespace instar::qcow2
