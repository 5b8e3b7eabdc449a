// corruption_event.cc: formatting qemu's corruption event lines.
#include "core/image/corruption_event.h"

namespace instar::image {

// The texts are qemu's (qcow2-refcount.c, qcow2-cluster.c; the same in 7.2
// and 10.0), their numbers printed with %#x / %#PRIx64 (append_alt_hex).

TextBuilder CorruptionEvent::begin(EventClock* clock) {
  sequence_ = clock != nullptr ? clock->next++ : 0;
  TextBuilder line(text_, sizeof text_);
  line.append("qcow2: Image is corrupt: ");
  return line;
}

void CorruptionEvent::end(TextBuilder& line) {
  line.append("; further non-fatal corruption events will be suppressed");
  length_ = line.length();
}

void CorruptionEvent::refblock_unaligned(uint64_t offset, uint64_t index, EventClock* clock) {
  if (signaled()) return;
  TextBuilder line = begin(clock);
  line.append("Refblock offset ");
  line.append_alt_hex(offset);
  line.append(" unaligned (reftable index: ");
  line.append_alt_hex(index);
  line.append(")");
  end(line);
}

void CorruptionEvent::l2_table_unaligned(uint64_t l2_offset, uint64_t l1_index, EventClock* clock) {
  if (signaled()) return;
  TextBuilder line = begin(clock);
  line.append("L2 table offset ");
  line.append_alt_hex(l2_offset);
  line.append(" unaligned (L1 index: ");
  line.append_alt_hex(l1_index);
  line.append(")");
  end(line);
}

void CorruptionEvent::cluster_unaligned(uint64_t host, uint64_t l2_offset, uint32_t l2_index, EventClock* clock) {
  if (signaled()) return;
  TextBuilder line = begin(clock);
  line.append("Cluster allocation offset ");
  line.append_alt_hex(host);
  line.append(" unaligned (L2 offset: ");
  line.append_alt_hex(l2_offset);
  line.append(", L2 index: ");
  line.append_alt_hex(l2_index);
  line.append(")");
  end(line);
}

void CorruptionEvent::zero_in_v2(uint64_t l2_offset, uint32_t l2_index, EventClock* clock) {
  if (signaled()) return;
  TextBuilder line = begin(clock);
  line.append("Zero cluster entry found in pre-v3 image (L2 offset: ");
  line.append_alt_hex(l2_offset);
  line.append(", L2 index: ");
  line.append_alt_hex(l2_index);
  line.append(")");
  end(line);
}

void CorruptionEvent::compressed_with_data_file(uint64_t l2_offset, uint32_t l2_index, EventClock* clock) {
  if (signaled()) return;
  TextBuilder line = begin(clock);
  line.append("Compressed cluster entry found in image with external data file (L2 offset: ");
  line.append_alt_hex(l2_offset);
  line.append(", L2 index: ");
  line.append_alt_hex(l2_index);
  line.append(")");
  end(line);
}

void CorruptionEvent::data_file_mismatch(uint64_t host, uint64_t guest, uint32_t l2_index, EventClock* clock) {
  if (signaled()) return;
  TextBuilder line = begin(clock);
  // qemu's text has no opening parenthesis for the one that closes it.
  line.append("External data file host cluster offset ");
  line.append_alt_hex(host);
  line.append(" does not match guest cluster offset: ");
  line.append_alt_hex(guest);
  line.append(", L2 index: ");
  line.append_alt_hex(l2_index);
  line.append(")");
  end(line);
}

void CorruptionEvent::invalid_entry(uint64_t l2_offset, uint32_t l2_index, EventClock* clock) {
  if (signaled()) return;
  TextBuilder line = begin(clock);
  // Two spaces before the parenthesis, as qemu prints it.
  line.append("Invalid cluster entry found  (L2 offset: ");
  line.append_alt_hex(l2_offset);
  line.append(", L2 index: ");
  line.append_alt_hex(l2_index);
  line.append(")");
  end(line);
}

}  // namespace instar::image
