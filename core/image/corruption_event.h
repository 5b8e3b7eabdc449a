// corruption_event.h: the line qemu's qcow2 driver prints on stderr the first
// time it finds a corrupt metadata entry (qcow2_signal_corruption). Reading
// operations open the image read-only, so the event is the non-fatal one:
// "qcow2: Image is corrupt: <what>; further non-fatal corruption events will be
// suppressed". qemu prints one per opened image and suppresses the rest.
#pragma once

#include "core/base/bytes.h"
#include "core/base/text.h"

namespace instar::image {

// Numbers the events of one operation in the order they happen: qemu prints
// each when it happens, and a backing file's may come after the other image's
// in compare.
struct EventClock {
  uint64_t next = 0;
};

// Each signal below records qemu's line and takes the next number of `clock`
// (no clock: 0), unless an event was signaled before: that one suppresses it,
// and the clock does not move.
class CorruptionEvent {
 public:
  // qcow2_get_refcount: the refcount table entry `index` names a refcount block
  // at `offset`, which is not cluster aligned.
  void refblock_unaligned(uint64_t offset, uint64_t index, EventClock* clock);

  // qcow2_get_host_offset, on every block status and read of a guest range.
  // `l2_index` is the entry's index in qemu's cached L2 slice (a whole table
  // unless the image is large enough for 4 KiB slices); `l2_offset` the table's.
  // The L1 entry `l1_index` names an L2 table at `l2_offset`, not cluster aligned.
  void l2_table_unaligned(uint64_t l2_offset, uint64_t l1_index, EventClock* clock);
  // A data cluster (or preallocated zero cluster) at `host`, not cluster aligned.
  void cluster_unaligned(uint64_t host, uint64_t l2_offset, uint32_t l2_index, EventClock* clock);
  // A zero flag in a version 2 image.
  void zero_in_v2(uint64_t l2_offset, uint32_t l2_index, EventClock* clock);
  // A compressed cluster in an image with an external data file.
  void compressed_with_data_file(uint64_t l2_offset, uint32_t l2_index, EventClock* clock);
  // A data cluster of an external data file at `host`, not the guest cluster `guest`'s own offset.
  void data_file_mismatch(uint64_t host, uint64_t guest, uint32_t l2_index, EventClock* clock);
  // An invalid extended L2 entry (count_contiguous_subclusters): `l2_index`
  // is that entry's, which may come after the one asked for.
  void invalid_entry(uint64_t l2_offset, uint32_t l2_index, EventClock* clock);

  bool signaled() const { return length_ > 0; }
  ByteSpan line() const { return ByteSpan(reinterpret_cast<const uint8_t*>(text_), length_); }
  uint64_t sequence() const { return sequence_; }

 private:
  // The line's start and the event's number; end() closes the line. Called only while nothing was signaled.
  TextBuilder begin(EventClock* clock);
  void end(TextBuilder& line);

  // The longest line: the data file's, two 64-bit numbers and a 32-bit one in
  // hex and the fixed text around them (under 220 bytes).
  char text_[256] = {};
  size_t length_ = 0;
  uint64_t sequence_ = 0;
};

}  // namespace instar::image
