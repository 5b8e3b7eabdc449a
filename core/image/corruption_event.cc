// corruption_event.cc: formatting qemu's corruption event line.
#include "core/image/corruption_event.h"

namespace instar::image {

void CorruptionEvent::refblock_unaligned(uint64_t offset, uint64_t index, uint64_t sequence) {
  if (signaled()) return;  // qemu: further non-fatal events are suppressed
  sequence_ = sequence;
  text("qcow2: Image is corrupt: Refblock offset ");
  alt_hex(offset);
  text(" unaligned (reftable index: ");
  alt_hex(index);
  text("); further non-fatal corruption events will be suppressed");
}

void CorruptionEvent::text(const char* s) {
  while (*s != '\0' && length_ < sizeof text_) text_[length_++] = static_cast<uint8_t>(*s++);
}

void CorruptionEvent::alt_hex(uint64_t v) {
  if (v != 0) text("0x");
  char digits[16];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v % 16];
    v /= 16;
  } while (v != 0);
  while (n > 0 && length_ < sizeof text_) text_[length_++] = static_cast<uint8_t>(digits[--n]);
}

}  // namespace instar::image
