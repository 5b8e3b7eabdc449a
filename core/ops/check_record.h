// check_record.h: the tags of the check result record (shared by core and the renderer).
#pragma once

#include <stdint.h>

namespace instar {

// check owns tags 600-699 (see info_record.h for the ranges of the others).
enum CheckTag : uint16_t {
  kCheckFormat = 600,        // driver name, present once the image opened
  kCheckLine = 601,          // a line qemu prints to stderr with fprintf, in order, without newline
  kCheckErrorLine = 602,     // a line qemu prints with error_report ("<program>: " in front)
  kCheckLinesDropped = 603,  // lines left out because the record's budget for them ran out
  kCheckUnsupported = 604,   // the format has no check ("This image format does not support checks")
  kCheckFailedErrno = 605,   // the check could not complete: "Check failed: <strerror(errno)>"
  kCheckCheckErrors = 610,
  kCheckCorruptions = 611,
  kCheckLeaks = 612,
  kCheckTotalClusters = 613,
  kCheckAllocatedClusters = 614,
  kCheckFragmentedClusters = 615,
  kCheckCompressedClusters = 616,
  kCheckImageEndOffset = 617,
  kCheckLeaksFixed = 618,        // -r: leaked clusters whose refcount was repaired
  kCheckCorruptionsFixed = 619,  // -r all: refcounts that were too low and were repaired
  kCheckBackingName = 620,    // as stored in the image: the host opens the backing chain as qemu does
  kCheckBackingFormat = 621,  // from the backing format extension
  kCheckDataFileName = 622,   // the external data file the image needs
  kCheckRepairRefused = 623,  // -r: a repair instar does not do; nothing was written (the reason)
  kCheckRepairGrowTo = 624,   // -r all: the rebuild grows the file to this size; nothing was written
                              // (the host gives the repair a device exactly this large and runs it again)
  kCheckRepairDisabled = 625,  // -r all: the repair marked the image corrupt, which disables it in qemu:
                               // its check after the repair fails ("Check failed: No medium found")
  kCheckBitmapStore = 626,  // -r: qemu stores the persistent bitmaps on close; the file's size once stored
                            // (the host runs the store after the check again, on a device this large)
  kCheckBitmapsLeakHint = 627,  // a program without bitmap support touched the bitmaps: qemu's hint after its
                                // warning, "Some clusters may be leaked, run 'qemu-img check -r' on the image
                                // file to fix." (no newline)
};

}  // namespace instar
