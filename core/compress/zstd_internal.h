// zstd_internal.h: what the zstd decoder's files share: bit readers and the entropy and block steps.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/compress/zstd_decoder.h"

namespace instar::zstd {

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, 8);
  return v;  // x86-64 and the guest are little-endian
}
inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}
inline uint32_t load_le24(const uint8_t* p) { return p[0] | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16; }
inline unsigned highbit(uint32_t v) { return 31 - __builtin_clz(v); }  // v > 0

inline Error corrupt(const char* what) { return make_error(Errc::invalid, what); }

// A bitstream read backwards from its last byte, whose highest set bit marks the start. The reader keeps
// eight bytes at `ptr` and counts the bits consumed from their top. Reading past the stream's first bit
// behaves as libzstd's reader does (zeros, then bits of the first eight bytes again), because libzstd
// accepts a sequences stream that over-reads and its output then depends on those bits.
struct BackwardBits {
  const uint8_t* start;
  const uint8_t* ptr;
  uint64_t bits;
  unsigned consumed;

  // False for an empty stream or one whose last byte is zero (no start marker).
  bool init(const uint8_t* data, size_t size) {
    if (size == 0 || data[size - 1] == 0) return false;
    start = data;
    unsigned marker = 8 - highbit(data[size - 1]);
    if (size >= 8) {
      ptr = data + size - 8;
      bits = load_le64(ptr);
      consumed = marker;
    } else {
      ptr = data;
      bits = 0;
      for (size_t i = 0; i < size; i++) bits |= uint64_t{data[i]} << (8 * i);
      consumed = marker + unsigned(8 - size) * 8;
    }
    return true;
  }
  // The next n bits (n <= 56 since the last reload), as an unsigned number; 0 for n == 0.
  uint64_t peek(unsigned n) const { return ((bits << (consumed & 63)) >> 1) >> ((63 - n) & 63); }
  uint64_t read(unsigned n) {
    uint64_t v = peek(n);
    consumed += n;
    return v;
  }
  // Refills so that at least 56 bits are buffered, unless the stream's start is reached.
  void reload() {
    if (consumed > 64) return;  // over-read: the reader stays where it is
    if (ptr >= start + 8) {
      ptr -= consumed >> 3;
      consumed &= 7;
    } else if (ptr == start) {
      return;
    } else {
      size_t n = consumed >> 3;
      if (n > size_t(ptr - start)) n = size_t(ptr - start);
      ptr -= n;
      consumed -= unsigned(n) * 8;
    }
    bits = load_le64(ptr);
  }
  bool overflowed() const { return consumed > 64; }
  // Every bit read, none beyond.
  bool exactly_consumed() const { return ptr == start && consumed == 64; }
  // Every bit read, or more (libzstd's end test for sequences).
  bool all_consumed() const { return ptr == start && consumed >= 64; }
};

// An FSE decoding table entry before it is given its meaning.
struct FseCell {
  uint16_t next_state;
  uint8_t symbol;
  uint8_t bits;
};

inline constexpr int kMaxFseLog = 9;  // literal and match lengths; offsets 8, Huffman weights 6

// Reads an FSE table description (RFC 8878 4.1.1) of at most max_log accuracy and max_symbol symbols into
// norm[0..max_symbol]; returns the bytes it took.
Result<size_t> read_fse_counts(ByteSpan src, unsigned max_symbol, unsigned max_log, int16_t* norm,
                               unsigned* log);
// Spreads the symbols of norm over 1 << log cells (RFC 8878 4.1.1, "FSE table construction").
void build_fse_table(const int16_t* norm, unsigned max_symbol, unsigned log, FseCell* cells);

// The literals section (RFC 8878 3.1.1.3.1) of a compressed block; the literals go to ws.literals.
struct Literals {
  size_t header_and_payload;  // bytes the section takes in the block
  size_t count;               // regenerated literals
  int type;                   // 0 raw, 1 RLE, 2 compressed, 3 treeless
  size_t header_size;
};
Result<Literals> decode_literals(ByteSpan block, size_t write_limit, ZstdWorkspace& ws);

// Where a block's output may go: [out + pos, out + block_limit) of [out, out + out_size).
struct BlockOutput {
  uint8_t* out;
  size_t out_size;
  size_t pos;          // where the block starts
  size_t frame_start;  // offsets may reach back to here
  size_t block_limit;  // end of what the block may write
  uint64_t window;     // offsets beyond it are a quirk in streaming mode
  bool streaming;
};

// Decodes the sequences section and executes it with the literals; returns the bytes written.
Result<size_t> decode_sequences(ByteSpan section, const Literals& literals, const BlockOutput& o,
                                ZstdWorkspace& ws);

uint64_t xxh64(const uint8_t* data, size_t size);

}  // namespace instar::zstd
