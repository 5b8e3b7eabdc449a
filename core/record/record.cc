// record.cc: RecordWriter; every write is bounded by the caller's buffer.
#include "core/record/record.h"

namespace instar {

void RecordWriter::put_raw(const void* bytes, size_t length) {
  if (failed_ || length > cap_ - used_) {
    failed_ = true;
    return;
  }
  const uint8_t* in = static_cast<const uint8_t*>(bytes);
  for (size_t i = 0; i < length; i++) buf_[used_ + i] = in[i];
  used_ += length;
}

static void store_le(uint8_t* out, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; i++) out[i] = static_cast<uint8_t>(v >> (8 * i));
}

void RecordWriter::start(uint16_t operation) {
  used_ = 0;
  depth_ = 0;
  failed_ = false;
  uint8_t header[kRecordHeaderSize];
  store_le(header, kRecordMagic, 4);
  store_le(header + 4, kRecordVersion, 2);
  store_le(header + 6, operation, 2);
  put_raw(header, sizeof header);
}

void RecordWriter::put_header(uint16_t tag, FieldKind kind, uint32_t length) {
  uint8_t header[kRecordFieldHeaderSize];
  store_le(header, tag, 2);
  header[2] = static_cast<uint8_t>(kind);
  store_le(header + 3, length, 4);
  put_raw(header, sizeof header);
}

void RecordWriter::put_u64(uint16_t tag, uint64_t value) {
  uint8_t payload[8];
  store_le(payload, value, 8);
  put_header(tag, FieldKind::u64, 8);
  put_raw(payload, 8);
}

void RecordWriter::put_bytes(uint16_t tag, ByteSpan bytes) {
  if (bytes.size > 0xffffffffu) {
    failed_ = true;
    return;
  }
  put_header(tag, FieldKind::bytes, static_cast<uint32_t>(bytes.size));
  put_raw(bytes.data, bytes.size);
}

void RecordWriter::put_string(uint16_t tag, const char* text) {
  put_bytes(tag, ByteSpan(reinterpret_cast<const uint8_t*>(text), c_string_length(text)));
}

void RecordWriter::begin(uint16_t tag) {
  if (depth_ >= kRecordMaxDepth) {
    failed_ = true;
    return;
  }
  open_tags_[depth_++] = tag;
  put_header(tag, FieldKind::begin, 0);
}

void RecordWriter::end(uint16_t tag) {
  // Only the innermost open group may be closed, by its own tag.
  if (depth_ == 0 || open_tags_[depth_ - 1] != tag) {
    failed_ = true;
    return;
  }
  depth_--;
  put_header(tag, FieldKind::end, 0);
}

void RecordWriter::finish() {
  if (depth_ != 0) failed_ = true;
}

}  // namespace instar
