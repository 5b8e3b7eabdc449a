// deflate_decoder.cc: see deflate_decoder.h. The rules zlib applies, and where this decoder answers
// "ask zlib" instead (zlib 1.2.13, inflate.c and inftrees.c, as called by qemu):
//   - block type 3, a stored block whose LEN is not the complement of NLEN, more than 286 literal/length
//     or 30 distance codes, a repeat with nothing to repeat or past the last length, no code for the
//     end of block, an over-subscribed code: zlib fails; so does a literal/length symbol 286 or 287 or a
//     distance symbol 30 or 31 (possible in fixed blocks), and a distance beyond what was written;
//   - an incomplete code: zlib accepts an empty distance code and a single code of one bit, so those
//     are not answered here (zlib's own writer never emits them: it always pairs codes);
//   - the cluster filling up before the final block ends (zlib stops there and succeeds), and a final
//     block ending before it is full (zlib fails): not answered here either; nor is a stream whose
//     bits run past the end of the input.
#include "core/compress/deflate_decoder.h"

namespace instar::compress {
namespace {

// A table entry: bits 0-5 the bits it takes from the stream (the code, plus the extra bits after a
// length or distance code; in a subtable, counted from the end of the primary index; for a subtable
// pointer, the primary index), bits 6-8 the kind, bits 9-12 the number of extra bits (a subtable's
// index bits), bits 16-31 the value: a literal byte, a length or distance base, a code-length symbol,
// or the offset of a subtable.
enum Kind : uint32_t { kLiteral = 0, kLength = 1, kEndOfBlock = 2, kSubtable = 3, kInvalid = 4, kDistance = 5 };

constexpr uint32_t make_entry(uint32_t kind, uint32_t extra, uint32_t value) {
  return kind << 6 | extra << 9 | value << 16;
}
constexpr uint32_t entry_bits(uint32_t e) { return e & 63; }
constexpr uint32_t entry_kind(uint32_t e) { return (e >> 6) & 7; }
constexpr uint32_t entry_extra(uint32_t e) { return (e >> 9) & 15; }
constexpr uint32_t entry_value(uint32_t e) { return e >> 16; }
constexpr uint32_t kInvalidEntry = make_entry(kInvalid, 0, 0);

constexpr unsigned kLitlenBits = 11, kLitlenSubBits = 4;  // 11 + 4 = 15, the longest code
constexpr unsigned kDistBits = 8, kDistSubBits = 7;
constexpr unsigned kPrecodeBits = 7;

// RFC 1951 section 3.2.5.
constexpr uint16_t kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t kDistBase[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
constexpr uint8_t kPrecodeOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

uint32_t litlen_symbol(unsigned s) {
  if (s < 256) return make_entry(kLiteral, 0, s);
  if (s == 256) return make_entry(kEndOfBlock, 0, 0);
  if (s < 286) return make_entry(kLength, kLengthExtra[s - 257], kLengthBase[s - 257]);
  return kInvalidEntry;  // 286 and 287: zlib's "invalid literal/length code"
}

uint32_t dist_symbol(unsigned s) {
  if (s < 30) return make_entry(kDistance, kDistExtra[s], kDistBase[s]);
  return kInvalidEntry;  // 30 and 31: zlib's "invalid distance code"
}

uint32_t precode_symbol(unsigned s) { return make_entry(kLiteral, 0, s); }

unsigned reverse_bits(unsigned code, unsigned n) {
  unsigned r = 0;
  for (unsigned i = 0; i < n; i++, code >>= 1) r = r << 1 | (code & 1);
  return r;
}

// The decode table of the canonical Huffman code with code lengths lens[0, count): a primary table
// indexed by the first `primary` bits of the stream, and a subtable of 2^`sub` entries for each prefix
// of longer codes. False (no table) unless the code is complete and the subtables fit in `capacity`.
template <typename SymbolEntry>
bool build_table(const uint8_t* lens, unsigned count, unsigned primary, unsigned sub, uint32_t* table, size_t capacity,
                 SymbolEntry symbol_entry) {
  unsigned counts[16] = {};
  for (unsigned s = 0; s < count; s++) counts[lens[s]]++;
  counts[0] = 0;
  int32_t left = 1;  // code space left, in units of the current length
  for (unsigned len = 1; len <= 15; len++) {
    left = left * 2 - static_cast<int32_t>(counts[len]);
    if (left < 0) return false;  // over-subscribed: zlib fails
  }
  if (left != 0) return false;  // incomplete or empty: zlib's answer varies, ask it
  unsigned next_code[16];
  unsigned code = 0;
  for (unsigned len = 1; len <= 15; len++) {
    code = (code + counts[len - 1]) << 1;
    next_code[len] = code;
  }
  const size_t primary_size = size_t{1} << primary, sub_size = size_t{1} << sub;
  for (size_t i = 0; i < primary_size; i++) table[i] = kInvalidEntry;
  size_t next_subtable = primary_size;
  for (unsigned s = 0; s < count; s++) {
    unsigned len = lens[s];
    if (len == 0) continue;
    unsigned reversed = reverse_bits(next_code[len]++, len);
    uint32_t entry = symbol_entry(s);
    if (len <= primary) {
      for (size_t i = reversed; i < primary_size; i += size_t{1} << len) table[i] = entry | (len + entry_extra(entry));
      continue;
    }
    size_t prefix = reversed & (primary_size - 1);
    if (entry_kind(table[prefix]) != kSubtable) {
      if (next_subtable + sub_size > capacity) return false;
      table[prefix] = make_entry(kSubtable, sub, static_cast<uint32_t>(next_subtable)) | primary;
      for (size_t i = 0; i < sub_size; i++) table[next_subtable + i] = kInvalidEntry;
      next_subtable += sub_size;
    }
    size_t base = entry_value(table[prefix]);
    unsigned rest = len - primary;
    for (size_t i = reversed >> primary; i < sub_size; i += size_t{1} << rest) table[base + i] = entry | (rest + entry_extra(entry));
  }
  return true;
}

// The stream's bits, least significant first, read ahead into a 64-bit buffer. Past the input it reads
// zero bytes (up to a limit the decoder checks), so that a symbol's look-up never needs a bounds check;
// whether the stream really fitted is decided at its end from the bits consumed.
struct BitStream {
  const uint8_t* data;
  size_t size;
  size_t pos = 0;  // the next byte to load; may pass `size` by the zero bytes read
  uint64_t buf = 0;
  unsigned count = 0;  // valid bits in buf

  // At least 56 bits in the buffer afterwards.
  [[gnu::always_inline]] void refill() {
    if (pos + 8 <= size) {
      uint64_t word;
      __builtin_memcpy(&word, data + pos, 8);
      buf |= word << count;
      pos += (63 - count) >> 3;
      count |= 56;
      return;
    }
    while (count <= 56) {
      uint64_t byte = pos < size ? data[pos] : 0;
      buf |= byte << count;
      pos++;
      count += 8;
    }
  }
  [[gnu::always_inline]] uint32_t peek(unsigned n) const { return static_cast<uint32_t>(buf & ((uint64_t{1} << n) - 1)); }
  [[gnu::always_inline]] void drop(unsigned n) {
    buf >>= n;
    count -= n;
  }
  [[gnu::always_inline]] uint32_t take(unsigned n) {
    uint32_t v = peek(n);
    drop(n);
    return v;
  }
  // More zero bytes read than any one step needs: the stream has certainly run past its input.
  bool overrun() const { return pos > size + 8; }
  bool consumed_within_input() const { return pos * 8 - count <= size * 8; }
};

// The entry of the next code, with a subtable's primary index already dropped.
[[gnu::always_inline]] inline uint32_t look_up(const uint32_t* table, BitStream& bits, unsigned primary, unsigned sub) {
  uint32_t e = table[bits.peek(primary)];
  if (entry_kind(e) == kSubtable) {
    bits.drop(primary);
    e = table[entry_value(e) + bits.peek(sub)];
  }
  return e;
}

// Drops the entry's code and extra bits; returns its value plus the extra bits.
[[gnu::always_inline]] inline uint32_t take_entry(BitStream& bits, uint32_t e) {
  uint64_t saved = bits.buf;
  unsigned total = entry_bits(e), extra = entry_extra(e);
  bits.drop(total);
  return entry_value(e) + static_cast<uint32_t>((saved & ((uint64_t{1} << total) - 1)) >> (total - extra));
}

bool build_fixed_tables(DeflateTables& t) {
  uint8_t* lens = t.lens;
  for (unsigned s = 0; s < 288; s++) lens[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
  for (unsigned s = 0; s < 32; s++) lens[288 + s] = 5;
  return build_table(lens, 288, kLitlenBits, kLitlenSubBits, t.litlen, DeflateTables::kLitlenEntries, litlen_symbol) &&
         build_table(lens + 288, 32, kDistBits, kDistSubBits, t.dist, DeflateTables::kDistEntries, dist_symbol);
}

bool read_dynamic_tables(DeflateTables& t, BitStream& bits) {
  bits.refill();
  unsigned nlen = bits.take(5) + 257, ndist = bits.take(5) + 1, ncode = bits.take(4) + 4;
  if (nlen > 286 || ndist > 30) return false;
  uint8_t precode_lens[19] = {};
  for (unsigned i = 0; i < ncode; i++) {
    if (bits.count < 3) bits.refill();
    precode_lens[kPrecodeOrder[i]] = static_cast<uint8_t>(bits.take(3));
  }
  if (!build_table(precode_lens, 19, kPrecodeBits, 0, t.precode, sizeof t.precode / sizeof t.precode[0],
                   precode_symbol))
    return false;
  const unsigned total = nlen + ndist;
  for (unsigned i = 0; i < total;) {
    if (bits.overrun()) return false;
    bits.refill();
    uint32_t symbol = take_entry(bits, t.precode[bits.peek(kPrecodeBits)]);
    if (symbol < 16) {
      t.lens[i++] = static_cast<uint8_t>(symbol);
      continue;
    }
    uint8_t value = 0;
    unsigned repeat;
    if (symbol == 16) {
      if (i == 0) return false;
      value = t.lens[i - 1];
      repeat = 3 + bits.take(2);
    } else if (symbol == 17) {
      repeat = 3 + bits.take(3);
    } else {
      repeat = 11 + bits.take(7);
    }
    if (repeat > total - i) return false;
    for (unsigned k = 0; k < repeat; k++) t.lens[i++] = value;
  }
  if (t.lens[256] == 0) return false;
  return build_table(t.lens, nlen, kLitlenBits, kLitlenSubBits, t.litlen, DeflateTables::kLitlenEntries,
                     litlen_symbol) &&
         build_table(t.lens + nlen, ndist, kDistBits, kDistSubBits, t.dist, DeflateTables::kDistEntries, dist_symbol);
}

bool copy_stored_block(BitStream& bits, uint8_t*& out, const uint8_t* end) {
  bits.drop(bits.count & 7);
  size_t p = bits.pos - bits.count / 8;  // the first byte not consumed
  if (p > bits.size || bits.size - p < 4) return false;
  const uint8_t* d = bits.data + p;
  uint32_t len = d[0] | uint32_t{d[1]} << 8, nlen = d[2] | uint32_t{d[3]} << 8;
  if (len != (~nlen & 0xFFFF)) return false;
  p += 4;
  if (len > bits.size - p || len > static_cast<size_t>(end - out)) return false;
  for (uint32_t i = 0; i < len; i++) out[i] = bits.data[p + i];
  out += len;
  bits.pos = p + len;
  bits.buf = 0;
  bits.count = 0;
  return true;
}

[[gnu::always_inline]] inline void copy_match(uint8_t* out, size_t distance, size_t length, const uint8_t* end) {
  const uint8_t* src = out - distance;
  if (static_cast<size_t>(end - out) >= length + 8) {
    // Eight bytes at a time, up to seven past the match (inside the cluster; later output rewrites
    // them before anything reads them).
    uint8_t* stop = out + length;
    if (distance >= 8) {
      do {
        uint64_t w;
        __builtin_memcpy(&w, src, 8);
        __builtin_memcpy(out, &w, 8);
        out += 8;
        src += 8;
      } while (out < stop);
      return;
    }
    if (distance == 1) {
      uint64_t w = uint64_t{*src} * 0x0101010101010101ull;
      do {
        __builtin_memcpy(out, &w, 8);
        out += 8;
      } while (out < stop);
      return;
    }
  }
  for (size_t i = 0; i < length; i++) out[i] = src[i];
}

// One Huffman block's symbols, up to its end-of-block code. After a refill the buffer holds at least
// 56 bits: a literal/length code (15), its extra bits (5), a distance code (15) and its extra bits (13).
// The next literal/length entry is looked up before a match is copied, so that the two overlap.
bool decode_block(const DeflateTables& t, BitStream& stream, const uint8_t* start, uint8_t*& out, const uint8_t* end) {
  BitStream bits = stream;
  uint8_t* o = out;
  if (bits.overrun()) return false;
  bits.refill();
  uint32_t e = look_up(t.litlen, bits, kLitlenBits, kLitlenSubBits);
  for (;;) {
    uint32_t kind = entry_kind(e);
    if (kind == kLiteral) {
      if (o == end) return false;
      bits.drop(entry_bits(e));
      *o++ = static_cast<uint8_t>(entry_value(e));
      // Two more literals from the same refill (41 bits are left, 11 at most per primary-table code):
      // literals come in runs.
      e = t.litlen[bits.peek(kLitlenBits)];
      if (entry_kind(e) == kLiteral && o != end) {
        bits.drop(entry_bits(e));
        *o++ = static_cast<uint8_t>(entry_value(e));
        e = t.litlen[bits.peek(kLitlenBits)];
        if (entry_kind(e) == kLiteral && o != end) {
          bits.drop(entry_bits(e));
          *o++ = static_cast<uint8_t>(entry_value(e));
        }
      }
      if (__builtin_expect(bits.pos + 8 > bits.size, 0) && bits.overrun()) return false;
      bits.refill();
      e = look_up(t.litlen, bits, kLitlenBits, kLitlenSubBits);
      continue;
    }
    if (kind == kLength) {
      size_t length = take_entry(bits, e);
      uint32_t d = look_up(t.dist, bits, kDistBits, kDistSubBits);
      if (entry_kind(d) != kDistance) return false;
      size_t distance = take_entry(bits, d);
      if (distance > static_cast<size_t>(o - start) || length > static_cast<size_t>(end - o)) return false;
      if (__builtin_expect(bits.pos + 8 > bits.size, 0) && bits.overrun()) return false;
      bits.refill();
      e = look_up(t.litlen, bits, kLitlenBits, kLitlenSubBits);
      copy_match(o, distance, length, end);
      o += length;
      continue;
    }
    if (kind == kEndOfBlock) {
      bits.drop(entry_bits(e));
      out = o;
      stream = bits;
      return true;
    }
    return false;
  }
}

}  // namespace

bool decode_deflate_exact(DeflateTables& tables, ByteSpan in, uint8_t* out, size_t out_size) {
  if (out_size == 0) return false;
  BitStream bits{in.data, in.size};
  uint8_t* o = out;
  const uint8_t* end = out + out_size;
  bool fixed_loaded = false, final_block = false;
  do {
    if (bits.overrun()) return false;
    bits.refill();
    final_block = bits.take(1) != 0;
    unsigned type = bits.take(2);
    if (type == 0) {
      if (!copy_stored_block(bits, o, end)) return false;
      continue;
    }
    if (type == 3) return false;
    if (type == 1) {
      if (!fixed_loaded && !build_fixed_tables(tables)) return false;
      fixed_loaded = true;
    } else {
      if (!read_dynamic_tables(tables, bits)) return false;
      fixed_loaded = false;
    }
    if (!decode_block(tables, bits, out, o, end)) return false;
  } while (!final_block);
  return o == end && bits.consumed_within_input();
}

}  // namespace instar::compress
