// corruption_event.h: the line qemu's qcow2 driver prints on stderr the first
// time it finds a corrupt metadata entry (qcow2_signal_corruption). Reading
// operations open the image read-only, so the event is the non-fatal one:
// "qcow2: Image is corrupt: <what>; further non-fatal corruption events will be
// suppressed". qemu prints one per opened image and suppresses the rest.
#pragma once

#include "core/base/bytes.h"

namespace instar::image {

class CorruptionEvent {
 public:
  // qcow2_get_refcount: the refcount table entry `index` names a refcount block
  // at `offset`, which is not cluster aligned. `sequence` orders the events of
  // all the images an operation reads (EventClock).
  void refblock_unaligned(uint64_t offset, uint64_t index, uint64_t sequence);

  bool signaled() const { return length_ > 0; }
  ByteSpan line() const { return ByteSpan(text_, length_); }
  uint64_t sequence() const { return sequence_; }

 private:
  void text(const char* s);
  void alt_hex(uint64_t v);  // printf's %#x: "0x" in front, except for zero

  // The longest line: two 64-bit numbers in hex and the fixed text around them.
  uint8_t text_[192] = {};
  size_t length_ = 0;
  uint64_t sequence_ = 0;
};

// Numbers the events of one operation in the order they happen: qemu prints
// each when it happens, and a backing file's may come after the other image's
// in compare.
struct EventClock {
  uint64_t next = 0;
};

}  // namespace instar::image
