// record.h: the result record, a bounded tag-length-value encoding that carries
// an operation's result from core/ (later: from the guest) to the renderer.
//
// Layout (little-endian): "IREC" magic, u16 version, u16 operation; then
// fields: u16 tag, u8 kind, u32 length, payload. Kinds: u64 (length 8), bytes,
// begin group (length 0), end group (length 0). Groups nest at most kMaxDepth.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"

namespace instar {

inline constexpr uint32_t kRecordMagic = 0x43455249;  // "IREC" read as little-endian
inline constexpr uint16_t kRecordVersion = 1;
inline constexpr size_t kRecordHeaderSize = 8;
inline constexpr size_t kRecordFieldHeaderSize = 7;
inline constexpr int kRecordMaxDepth = 8;

enum class FieldKind : uint8_t { u64 = 0, bytes = 1, begin = 2, end = 3 };

class RecordWriter {
 public:
  RecordWriter(uint8_t* buffer, size_t capacity) : buf_(buffer), cap_(capacity) {}

  void start(uint16_t operation);
  void put_u64(uint16_t tag, uint64_t value);
  void put_bool(uint16_t tag, bool value) { put_u64(tag, value ? 1 : 0); }
  void put_bytes(uint16_t tag, ByteSpan bytes);
  void put_string(uint16_t tag, const char* text);
  void begin(uint16_t tag);
  void end(uint16_t tag);
  // Marks the record failed unless every group was closed; call once after the last field.
  void finish();

  // True once anything failed to fit (or groups were mis-nested); the record is then unusable.
  bool failed() const { return failed_; }
  size_t size() const { return used_; }
  const uint8_t* data() const { return buf_; }

 private:
  void put_header(uint16_t tag, FieldKind kind, uint32_t length);
  void put_raw(const void* bytes, size_t length);

  uint8_t* buf_;
  size_t cap_;
  size_t used_ = 0;
  int depth_ = 0;
  uint16_t open_tags_[kRecordMaxDepth] = {};
  bool failed_ = false;
};

}  // namespace instar
