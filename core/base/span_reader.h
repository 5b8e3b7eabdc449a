// span_reader.h: bounded reader over untrusted bytes; endianness is in each method name.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"

namespace instar {

// Consumes from the front. A read that does not fit returns false and changes
// nothing, so a caller can check once after a run of reads.
class SpanReader {
 public:
  explicit SpanReader(ByteSpan bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size - pos_; }
  size_t position() const { return pos_; }

  bool skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  bool read_bytes(size_t n, ByteSpan& out) {
    if (n > remaining()) return false;
    out = ByteSpan(bytes_.data + pos_, n);
    pos_ += n;
    return true;
  }
  bool read_u8(uint8_t& out) { return read_int(out, 1, false); }
  bool read_u16_be(uint16_t& out) { return read_int(out, 2, true); }
  bool read_u32_be(uint32_t& out) { return read_int(out, 4, true); }
  bool read_u64_be(uint64_t& out) { return read_int(out, 8, true); }
  bool read_u16_le(uint16_t& out) { return read_int(out, 2, false); }
  bool read_u32_le(uint32_t& out) { return read_int(out, 4, false); }
  bool read_u64_le(uint64_t& out) { return read_int(out, 8, false); }

 private:
  template <typename T>
  bool read_int(T& out, size_t n, bool big_endian) {
    if (n > remaining()) return false;
    const uint8_t* p = bytes_.data + pos_;
    T v = 0;
    for (size_t i = 0; i < n; i++) {
      size_t shift = big_endian ? (n - 1 - i) * 8 : i * 8;
      v = static_cast<T>(v | static_cast<T>(static_cast<T>(p[i]) << shift));
    }
    out = v;
    pos_ += n;
    return true;
  }

  ByteSpan bytes_;
  size_t pos_ = 0;
};

// Fixed-offset loads for layouts described as byte offsets. The caller has
// checked that offset + width <= span.size (load_* trap otherwise).
inline uint64_t load_be(ByteSpan s, size_t offset, size_t width) {
  if (offset > s.size || width > s.size - offset) __builtin_trap();
  uint64_t v = 0;
  for (size_t i = 0; i < width; i++) v = (v << 8) | s.data[offset + i];
  return v;
}
inline uint64_t load_le(ByteSpan s, size_t offset, size_t width) {
  if (offset > s.size || width > s.size - offset) __builtin_trap();
  uint64_t v = 0;
  for (size_t i = 0; i < width; i++) v |= static_cast<uint64_t>(s.data[offset + i]) << (8 * i);
  return v;
}
inline uint16_t load_u16_be(ByteSpan s, size_t o) { return static_cast<uint16_t>(load_be(s, o, 2)); }
inline uint32_t load_u32_be(ByteSpan s, size_t o) { return static_cast<uint32_t>(load_be(s, o, 4)); }
inline uint64_t load_u64_be(ByteSpan s, size_t o) { return load_be(s, o, 8); }
inline uint16_t load_u16_le(ByteSpan s, size_t o) { return static_cast<uint16_t>(load_le(s, o, 2)); }
inline uint32_t load_u32_le(ByteSpan s, size_t o) { return static_cast<uint32_t>(load_le(s, o, 4)); }
inline uint64_t load_u64_le(ByteSpan s, size_t o) { return load_le(s, o, 8); }

}  // namespace instar
