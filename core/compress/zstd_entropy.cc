// zstd_entropy.cc: FSE table descriptions and tables, Huffman trees and the literals section.
#include "core/compress/zstd_internal.h"

namespace instar::zstd {

namespace {

// Bits taken from the front of a byte string, least significant first; zeros past its end.
class ForwardBits {
 public:
  explicit ForwardBits(ByteSpan s) : s_(s) {}
  uint32_t peek(unsigned n) const {
    uint64_t v = 0;
    size_t byte = pos_ >> 3;
    for (unsigned i = 0; i < 4 && byte + i < s_.size; i++) v |= uint64_t{s_.data[byte + i]} << (8 * i);
    return uint32_t((v >> (pos_ & 7)) & ((uint64_t{1} << n) - 1));
  }
  void skip(unsigned n) { pos_ += n; }
  size_t bit_pos() const { return pos_; }

 private:
  ByteSpan s_;
  size_t pos_ = 0;
};

}  // namespace

Result<size_t> read_fse_counts(ByteSpan src, unsigned max_symbol, unsigned max_log, int16_t* norm,
                               unsigned* log_out) {
  ForwardBits in(src);
  unsigned log = in.peek(4) + 5;
  in.skip(4);
  if (log > max_log) return corrupt("zstd: FSE accuracy log too large");
  for (unsigned s = 0; s <= max_symbol; s++) norm[s] = 0;  // symbols skipped by repeat flags
  int remaining = (1 << log) + 1;
  int threshold = 1 << log;
  unsigned bits = log + 1;
  unsigned symbol = 0;
  bool previous_zero = false;
  while (remaining > 1 && symbol <= max_symbol) {
    if (previous_zero) {
      for (;;) {
        unsigned repeat = in.peek(2);
        in.skip(2);
        symbol += repeat;
        if (repeat != 3) break;
      }
      if (symbol > max_symbol) break;
    }
    int max = (2 * threshold - 1) - remaining;
    int count;
    uint32_t low = in.peek(bits - 1);
    if (int(low) < max) {
      count = int(low);
      in.skip(bits - 1);
    } else {
      count = int(in.peek(bits));
      if (count >= threshold) count -= max;
      in.skip(bits);
    }
    count--;  // a stored value v means probability v - 1; -1 is "less than 1"
    remaining -= count < 0 ? -count : count;
    norm[symbol++] = int16_t(count);
    previous_zero = count == 0;
    if (remaining < threshold) {
      if (remaining <= 1) break;
      bits = highbit(uint32_t(remaining)) + 1;
      threshold = 1 << (bits - 1);
    }
  }
  if (remaining != 1) return corrupt("zstd: FSE probabilities do not add up");
  if ((in.bit_pos() + 7) / 8 > src.size) return corrupt("zstd: FSE table description truncated");
  *log_out = log;
  return (in.bit_pos() + 7) / 8;
}

void build_fse_table(const int16_t* norm, unsigned max_symbol, unsigned log, FseCell* cells) {
  uint32_t size = uint32_t{1} << log;
  uint32_t high = size - 1;
  uint16_t next[256];
  for (unsigned s = 0; s <= max_symbol; s++) {
    if (norm[s] == -1) {
      cells[high--].symbol = uint8_t(s);
      next[s] = 1;
    } else {
      next[s] = uint16_t(norm[s]);
    }
  }
  uint32_t step = (size >> 1) + (size >> 3) + 3, mask = size - 1, pos = 0;
  for (unsigned s = 0; s <= max_symbol; s++) {
    for (int i = 0; i < norm[s]; i++) {
      cells[pos].symbol = uint8_t(s);
      do pos = (pos + step) & mask;
      while (pos > high);
    }
  }
  for (uint32_t u = 0; u < size; u++) {
    uint32_t n = next[cells[u].symbol]++;
    unsigned bits = log - highbit(n);
    cells[u].bits = uint8_t(bits);
    cells[u].next_state = uint16_t((n << bits) - size);
  }
}

namespace {

constexpr unsigned kMaxHuffmanLog = 12;  // libzstd's limit; RFC 8878 says 11

// Huffman weights compressed with FSE: two interleaved states until the stream over-reads (RFC 8878
// 4.2.1.2), at most 255 weights.
Result<size_t> decode_fse_weights(ByteSpan src, uint8_t* weights) {
  int16_t norm[256];
  unsigned log;
  INSTAR_TRY_ASSIGN(header, read_fse_counts(src, 255, 6, norm, &log));
  FseCell cells[1 << 6];
  build_fse_table(norm, 255, log, cells);
  BackwardBits bits;
  if (!bits.init(src.data + header, src.size - header)) return corrupt("zstd: bad Huffman weight stream");
  uint32_t state1 = uint32_t(bits.read(log));
  uint32_t state2 = uint32_t(bits.read(log));
  bits.reload();
  size_t n = 0;
  for (;;) {
    if (n > 253) return corrupt("zstd: too many Huffman weights");
    weights[n++] = cells[state1].symbol;
    state1 = cells[state1].next_state + uint32_t(bits.read(cells[state1].bits));
    bits.reload();
    if (bits.overflowed()) {
      weights[n++] = cells[state2].symbol;
      break;
    }
    if (n > 253) return corrupt("zstd: too many Huffman weights");
    weights[n++] = cells[state2].symbol;
    state2 = cells[state2].next_state + uint32_t(bits.read(cells[state2].bits));
    bits.reload();
    if (bits.overflowed()) {
      weights[n++] = cells[state1].symbol;
      break;
    }
  }
  return n;
}

// The Huffman tree description (RFC 8878 4.2.1) into ws.huffman; returns the bytes it took.
Result<size_t> read_huffman_tree(ByteSpan src, ZstdWorkspace& ws) {
  if (src.size == 0) return corrupt("zstd: Huffman tree missing");
  uint8_t weights[256];
  size_t count, size;
  unsigned header = src[0];
  if (header >= 128) {
    ws.seen |= kZstdSeenDirectWeights;
    count = header - 127;
    size = (count + 1) / 2;
    if (size + 1 > src.size) return corrupt("zstd: Huffman weights truncated");
    for (size_t i = 0; i < count; i += 2) {
      weights[i] = src[1 + i / 2] >> 4;
      weights[i + 1] = src[1 + i / 2] & 15;
    }
  } else {
    size = header;
    ws.seen |= kZstdSeenFseWeights;
    if (size + 1 > src.size) return corrupt("zstd: Huffman weights truncated");
    INSTAR_TRY_ASSIGN(n, decode_fse_weights(src.subspan(1, size), weights));
    count = n;
  }
  uint32_t rank_count[kMaxHuffmanLog + 1] = {};
  uint32_t total = 0;
  for (size_t i = 0; i < count; i++) {
    if (weights[i] > kMaxHuffmanLog) return corrupt("zstd: Huffman weight too large");
    rank_count[weights[i]]++;
    total += (uint32_t{1} << weights[i]) >> 1;
  }
  if (total == 0) return corrupt("zstd: Huffman weights all zero");
  unsigned log = highbit(total) + 1;
  if (log > kMaxHuffmanLog) return corrupt("zstd: Huffman tree too deep");
  uint32_t rest = (uint32_t{1} << log) - total;
  if ((rest & (rest - 1)) != 0) return corrupt("zstd: Huffman weights do not complete a tree");
  unsigned last = highbit(rest) + 1;
  weights[count] = uint8_t(last);
  rank_count[last]++;
  if (rank_count[1] < 2 || (rank_count[1] & 1) != 0) return corrupt("zstd: Huffman weights malformed");
  // Codes go to symbols by increasing weight, then by symbol: each gets 2^(weight-1) cells in a row.
  uint32_t next[kMaxHuffmanLog + 2];
  next[1] = 0;
  for (unsigned w = 1; w <= log; w++) next[w + 1] = next[w] + (rank_count[w] << (w - 1));
  for (size_t s = 0; s <= count; s++) {
    unsigned w = weights[s];
    if (w == 0) continue;
    uint16_t entry = uint16_t(s | (log + 1 - w) << 8);
    uint32_t at = next[w], n = uint32_t{1} << (w - 1);
    for (uint32_t i = 0; i < n; i++) ws.huffman[at + i] = entry;
    next[w] = at + n;
  }
  ws.huffman_log = uint8_t(log);
  return size + 1;
}

// The next symbol: its cell is found by the next `log` bits (log >= 1).
inline uint8_t decode_symbol(BackwardBits& s, const uint16_t* table, unsigned log) {
  uint16_t e = table[(s.bits << (s.consumed & 63)) >> (64 - log)];
  s.consumed += e >> 8;
  return uint8_t(e);
}

// How far libzstd 1.5.4 may accept a Huffman stream that RFC 8878 refuses (see HuffmanStream::finish).
enum class Leniency { none, last_symbol, any };

// One Huffman-coded stream of n literals.
struct HuffmanStream {
  BackwardBits s;
  uint8_t* out;
  size_t n;
  size_t i = 0;

  bool start(ByteSpan src, Leniency lenient, uint32_t& quirks) {
    if (!s.init(src.data, src.size)) {
      if (lenient == Leniency::any && src.size > 0) quirks |= kZstdQuirkHuffmanEnd;
      return false;
    }
    s.reload();
    return true;
  }
  // Four symbols of at most 12 bits per refill are safe while eight bytes remain before the start.
  bool can_take_four() const { return n - i >= 4 && s.ptr >= s.start + 8; }
  void take_four(const uint16_t* table, unsigned log) {
    out[i] = decode_symbol(s, table, log);
    out[i + 1] = decode_symbol(s, table, log);
    out[i + 2] = decode_symbol(s, table, log);
    out[i + 3] = decode_symbol(s, table, log);
    i += 4;
    s.reload();
  }
  // The rest; the stream must then be used up exactly. libzstd is laxer in two places, both flagged as
  // kZstdQuirkHuffmanEnd when instar refuses: its double-symbol decoder (which a speed heuristic may pick for
  // four streams, and then for treeless literals after them) counts a stream as used up when a last
  // two-symbol cell reaches or passes its start; and its x86-64 BMI2 four-stream fast path checks only that
  // each stream yields its symbols, not where the stream ends (nor that its last byte holds the marker).
  bool finish(const uint16_t* table, unsigned log, Leniency lenient, uint32_t& quirks) {
    while (can_take_four()) take_four(table, log);
    for (; i < n; i++) {
      out[i] = decode_symbol(s, table, log);
      s.reload();
    }
    if (s.exactly_consumed()) return true;
    unsigned off = s.consumed > 64 ? s.consumed - 64 : 64 - s.consumed;
    if (lenient == Leniency::any ||
        (lenient == Leniency::last_symbol && s.ptr == s.start && off < kMaxHuffmanLog))
      quirks |= kZstdQuirkHuffmanEnd;
    return false;
  }
};

Result<void> decode_huffman_literals(ByteSpan src, size_t n, bool four_streams, bool treeless,
                                     ZstdWorkspace& ws) {
  Leniency lenient = four_streams ? Leniency::any : treeless ? Leniency::last_symbol : Leniency::none;
  const uint16_t* table = ws.huffman;
  unsigned log = ws.huffman_log;
  if (!four_streams) {
    HuffmanStream one{{}, ws.literals, n};
    if (!one.start(src, lenient, ws.quirks) || !one.finish(table, log, lenient, ws.quirks))
      return corrupt("zstd: bad Huffman stream");
    return ok();
  }
  if (src.size < 10) return corrupt("zstd: Huffman jump table truncated");
  size_t size1 = src[0] | size_t{src[1]} << 8, size2 = src[2] | size_t{src[3]} << 8,
         size3 = src[4] | size_t{src[5]} << 8;
  if (size1 + size2 + size3 + 6 > src.size) return corrupt("zstd: Huffman streams truncated");
  size_t size4 = src.size - 6 - size1 - size2 - size3;
  size_t segment = (n + 3) / 4;
  if (3 * segment > n) return corrupt("zstd: too few literals for four streams");
  const uint8_t* p = src.data + 6;
  uint8_t* out = ws.literals;
  HuffmanStream s1{{}, out, segment}, s2{{}, out + segment, segment}, s3{{}, out + 2 * segment, segment},
      s4{{}, out + 3 * segment, n - 3 * segment};
  bool good = s1.start(ByteSpan(p, size1), lenient, ws.quirks) &&
              s2.start(ByteSpan(p + size1, size2), lenient, ws.quirks) &&
              s3.start(ByteSpan(p + size1 + size2, size3), lenient, ws.quirks) &&
              s4.start(ByteSpan(p + size1 + size2 + size3, size4), lenient, ws.quirks);
  if (!good) return corrupt("zstd: bad Huffman stream");
  // Interleaved, so that the four streams' table lookups overlap.
  while (s1.can_take_four() && s2.can_take_four() && s3.can_take_four() && s4.can_take_four()) {
    s1.take_four(table, log);
    s2.take_four(table, log);
    s3.take_four(table, log);
    s4.take_four(table, log);
  }
  good = s1.finish(table, log, lenient, ws.quirks) && s2.finish(table, log, lenient, ws.quirks) &&
         s3.finish(table, log, lenient, ws.quirks) && s4.finish(table, log, lenient, ws.quirks);
  if (!good) return corrupt("zstd: bad Huffman stream");
  return ok();
}

}  // namespace

Result<Literals> decode_literals(ByteSpan block, size_t write_limit, ZstdWorkspace& ws) {
  if (block.size == 0) return corrupt("zstd: empty compressed block");
  Literals lit{};
  uint8_t b0 = block[0];
  lit.type = b0 & 3;
  unsigned size_format = (b0 >> 2) & 3;
  if (lit.type <= 1) {  // raw or RLE
    switch (size_format) {
      case 1:
        lit.header_size = 2;
        if (block.size < 3) return corrupt("zstd: literals header truncated");
        lit.count = (b0 | size_t{block[1]} << 8) >> 4;
        break;
      case 3:
        lit.header_size = 3;
        if (block.size < 4) return corrupt("zstd: literals header truncated");
        lit.count = load_le24(block.data) >> 4;
        break;
      default:
        lit.header_size = 1;
        lit.count = b0 >> 3;
        break;
    }
    if (lit.count > kZstdBlockSizeMax) return corrupt("zstd: too many literals");
    if (lit.count > write_limit) return make_error(Errc::no_space, "zstd: literals exceed the output");
    ws.seen |= lit.type == 0 ? kZstdSeenRawLiterals : kZstdSeenRleLiterals;
    if (lit.type == 0) {
      if (lit.header_size + lit.count > block.size) return corrupt("zstd: literals truncated");
      if (lit.count > 0) __builtin_memcpy(ws.literals, block.data + lit.header_size, lit.count);
      lit.header_and_payload = lit.header_size + lit.count;
    } else {
      if (lit.header_size + 1 > block.size) return corrupt("zstd: literals truncated");
      __builtin_memset(ws.literals, block[lit.header_size], lit.count);
      lit.header_and_payload = lit.header_size + 1;
    }
    return lit;
  }
  // Compressed or treeless: sizes of regenerated and compressed literals.
  if (block.size < 5) return corrupt("zstd: literals header truncated");
  bool four_streams = size_format != 0;
  size_t compressed;
  uint32_t h = load_le32(block.data);
  switch (size_format) {
    case 0:
    case 1:
      lit.header_size = 3;
      lit.count = (h >> 4) & 0x3FF;
      compressed = (h >> 14) & 0x3FF;
      break;
    case 2:
      lit.header_size = 4;
      lit.count = (h >> 4) & 0x3FFF;
      compressed = h >> 18;
      break;
    default:
      lit.header_size = 5;
      lit.count = (h >> 4) & 0x3FFFF;
      compressed = (h >> 22) | size_t{block[4]} << 10;
      break;
  }
  if (lit.count > kZstdBlockSizeMax) return corrupt("zstd: too many literals");
  if (lit.header_size + compressed > block.size) return corrupt("zstd: literals truncated");
  if (lit.count > write_limit) return make_error(Errc::no_space, "zstd: literals exceed the output");
  lit.header_and_payload = lit.header_size + compressed;
  ByteSpan payload = block.subspan(lit.header_size, compressed);
  if (lit.count == 0 || compressed == 0) return corrupt("zstd: empty Huffman literals");
  if (lit.type == 3) {
    if (!ws.have_huffman) return corrupt("zstd: treeless literals without a previous tree");
    ws.seen |= kZstdSeenTreelessLiterals;
  } else {
    INSTAR_TRY_ASSIGN(tree_size, read_huffman_tree(payload, ws));
    if (tree_size >= payload.size) return corrupt("zstd: Huffman literals truncated");
    payload = payload.subspan(tree_size);
    ws.have_huffman = true;
  }
  ws.seen |= four_streams ? kZstdSeenHuffmanFourStreams : kZstdSeenHuffmanOneStream;
  INSTAR_TRY(decode_huffman_literals(payload, lit.count, four_streams, lit.type == 3, ws));
  return lit;
}

}  // namespace instar::zstd
