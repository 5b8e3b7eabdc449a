// corruption_event.cc: formatting qemu's corruption event line.
#include "core/image/corruption_event.h"

namespace instar::image {

// The texts are qemu's (qcow2-refcount.c, qcow2-cluster.c; the same in 7.2
// and 10.0), their numbers printed with %#x / %#PRIx64, which this follows.

bool CorruptionEvent::begin(uint64_t sequence) {
  if (signaled()) return false;  // qemu: further non-fatal events are suppressed
  sequence_ = sequence;
  text("qcow2: Image is corrupt: ");
  return true;
}

void CorruptionEvent::end() { text("; further non-fatal corruption events will be suppressed"); }

void CorruptionEvent::refblock_unaligned(uint64_t offset, uint64_t index, uint64_t sequence) {
  if (!begin(sequence)) return;
  text("Refblock offset ");
  alt_hex(offset);
  text(" unaligned (reftable index: ");
  alt_hex(index);
  text(")");
  end();
}

void CorruptionEvent::l2_table_unaligned(uint64_t l2_offset, uint64_t l1_index, uint64_t sequence) {
  if (!begin(sequence)) return;
  text("L2 table offset ");
  alt_hex(l2_offset);
  text(" unaligned (L1 index: ");
  alt_hex(l1_index);
  text(")");
  end();
}

void CorruptionEvent::cluster_unaligned(uint64_t host, uint64_t l2_offset, uint32_t l2_index, uint64_t sequence) {
  if (!begin(sequence)) return;
  text("Cluster allocation offset ");
  alt_hex(host);
  text(" unaligned (L2 offset: ");
  alt_hex(l2_offset);
  text(", L2 index: ");
  alt_hex(l2_index);
  text(")");
  end();
}

void CorruptionEvent::zero_in_v2(uint64_t l2_offset, uint32_t l2_index, uint64_t sequence) {
  if (!begin(sequence)) return;
  text("Zero cluster entry found in pre-v3 image (L2 offset: ");
  alt_hex(l2_offset);
  text(", L2 index: ");
  alt_hex(l2_index);
  text(")");
  end();
}

void CorruptionEvent::compressed_with_data_file(uint64_t l2_offset, uint32_t l2_index, uint64_t sequence) {
  if (!begin(sequence)) return;
  text("Compressed cluster entry found in image with external data file (L2 offset: ");
  alt_hex(l2_offset);
  text(", L2 index: ");
  alt_hex(l2_index);
  text(")");
  end();
}

void CorruptionEvent::data_file_mismatch(uint64_t host, uint64_t guest, uint32_t l2_index, uint64_t sequence) {
  if (!begin(sequence)) return;
  // qemu's text has no opening parenthesis for the one that closes it.
  text("External data file host cluster offset ");
  alt_hex(host);
  text(" does not match guest cluster offset: ");
  alt_hex(guest);
  text(", L2 index: ");
  alt_hex(l2_index);
  text(")");
  end();
}

void CorruptionEvent::invalid_entry(uint64_t l2_offset, uint32_t l2_index, uint64_t sequence) {
  if (!begin(sequence)) return;
  // Two spaces before the parenthesis, as qemu prints it.
  text("Invalid cluster entry found  (L2 offset: ");
  alt_hex(l2_offset);
  text(", L2 index: ");
  alt_hex(l2_index);
  text(")");
  end();
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
