// inflate.cc: table-driven DEFLATE decoding that stops and refuses exactly where zlib's inflate() does.
#include "core/compress/inflate.h"

namespace instar::compress {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the bit reader loads 8 bytes little-endian");

// A decoding table entry:
//   bits 0-3   bits the code takes: its length; in a root entry linking a sub-table, the root bits; in a
//              sub-table entry, the bits past the root
//   bits 4-7   extra bits after a length or distance code; in a link, the sub-table's index bits
//   bits 8-11  kind (none: a length or distance code, or a code-length symbol)
//   bits 16-31 literal byte, length or distance base, code-length symbol, or a link's sub-table offset
constexpr uint32_t kLiteral = 1u << 8;
constexpr uint32_t kEndOfBlock = 1u << 9;
constexpr uint32_t kLink = 1u << 10;
constexpr uint32_t kInvalid = 1u << 11;

constexpr uint32_t make_entry(uint32_t kind, unsigned value, unsigned extra, unsigned bits) {
  return kind | (uint32_t{value} << 16) | (extra << 4) | bits;
}
constexpr unsigned entry_bits(uint32_t e) { return e & 15; }
constexpr unsigned entry_extra(uint32_t e) { return (e >> 4) & 15; }
constexpr unsigned entry_value(uint32_t e) { return e >> 16; }

constexpr unsigned kMaxCodeBits = 15;
constexpr unsigned kLitRootBits = 10;
constexpr unsigned kDistRootBits = 8;
constexpr unsigned kCodeLengthRootBits = 7;  // code-length codes are at most 7 bits: no sub-tables
// Root table plus the most sub-table entries any accepted code can need: a search over all canonical codes
// (docs/formats/deflate.md) bounds the sub-tables at 312 entries for literal/length codes, 150 for distances.
constexpr unsigned kLitTableSize = 1336;
constexpr unsigned kDistTableSize = 406;
constexpr unsigned kMaxLitSymbols = 286;  // in a dynamic block; the fixed code also has 286 and 287
constexpr unsigned kMaxDistSymbols = 30;  // in a dynamic block; the fixed code also has 30 and 31
constexpr unsigned kCodeLengthSymbols = 19;
constexpr unsigned kMaxMatch = 258;
// The fast loop copies matches 8 bytes at a time and may write up to 7 bytes past a match's end.
constexpr size_t kFastOutputRoom = kMaxMatch + 8;

// RFC 1951 3.2.5: base and extra bits of length codes 257..285 and distance codes 0..29.
constexpr uint16_t kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t kDistBase[30] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                    33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// RFC 1951 3.2.7: the order of the code-length code's lengths in a dynamic block header.
constexpr uint8_t kCodeLengthOrder[kCodeLengthSymbols] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                          11, 4,  12, 3, 13, 2, 14, 1, 15};

enum class Alphabet : uint8_t { code_length, literal_length, distance };

constexpr uint32_t symbol_entry(Alphabet alphabet, unsigned symbol, unsigned bits) {
  switch (alphabet) {
    case Alphabet::code_length:
      return make_entry(0, symbol, 0, bits);
    case Alphabet::literal_length:
      if (symbol < 256) return make_entry(kLiteral, symbol, 0, bits);
      if (symbol == 256) return make_entry(kEndOfBlock, 0, 0, bits);
      if (symbol < 257 + 29)
        return make_entry(0, kLengthBase[symbol - 257], kLengthExtra[symbol - 257], bits);
      return make_entry(kInvalid, 0, 0, bits);
    case Alphabet::distance:
      if (symbol < 30) return make_entry(0, kDistBase[symbol], kDistExtra[symbol], bits);
      return make_entry(kInvalid, 0, 0, bits);
  }
  return make_entry(kInvalid, 0, 0, bits);
}

// Codes are defined most significant bit first but read least significant bit first.
constexpr unsigned reverse_bits(unsigned code, unsigned length) {
  unsigned reversed = 0;
  for (unsigned i = 0; i < length; i++, code >>= 1) reversed = (reversed << 1) | (code & 1);
  return reversed;
}

// Fills `table` (2^root entries, then sub-tables) for the canonical code the lengths describe. False where
// zlib refuses the lengths: an over-subscribed code, or an incomplete one other than a single one-bit
// literal/length or distance code (whose unused bit pattern decodes as invalid). No code at all is
// accepted, as zlib accepts it: every entry is then one bit long and invalid, or for the code-length code
// the symbol 0 (zlib does not look at the entry's kind there).
constexpr bool build_table(const uint8_t* lengths, unsigned count, Alphabet alphabet, unsigned root,
                           uint32_t* table, unsigned capacity) {
  unsigned histogram[kMaxCodeBits + 1] = {};
  for (unsigned s = 0; s < count; s++) histogram[lengths[s]]++;
  histogram[0] = 0;
  unsigned longest = 0;
  for (unsigned len = 1; len <= kMaxCodeBits; len++)
    if (histogram[len] != 0) longest = len;

  const unsigned root_size = 1u << root;
  const uint32_t filler =
      alphabet == Alphabet::code_length ? make_entry(0, 0, 0, 1) : make_entry(kInvalid, 0, 0, 1);
  for (unsigned i = 0; i < root_size; i++) table[i] = filler;
  if (longest == 0) return true;

  int unused = 1;  // code space left at each length, in units of that length
  for (unsigned len = 1; len <= kMaxCodeBits; len++) {
    unused = 2 * unused - static_cast<int>(histogram[len]);
    if (unused < 0) return false;
  }
  if (unused > 0 && (alphabet == Alphabet::code_length || longest != 1)) return false;

  unsigned first_code[kMaxCodeBits + 1] = {};
  for (unsigned len = 1, code = 0; len <= kMaxCodeBits; len++) {
    code = (code + histogram[len - 1]) << 1;
    first_code[len] = code;
  }
  unsigned next_code[kMaxCodeBits + 1] = {};

  // Sub-tables: the longest code under a root slot sets its size; mark slots with it, then lay them out.
  if (longest > root) {
    for (unsigned len = 0; len <= kMaxCodeBits; len++) next_code[len] = first_code[len];
    for (unsigned s = 0; s < count; s++) {
      unsigned len = lengths[s];
      if (len == 0) continue;
      unsigned code = next_code[len]++;
      if (len <= root) continue;
      uint32_t& slot = table[reverse_bits(code, len) & (root_size - 1)];
      if (!(slot & kLink) || entry_bits(slot) < len) slot = make_entry(kLink, 0, 0, len);
    }
    unsigned used = root_size;
    for (unsigned i = 0; i < root_size; i++) {
      if (!(table[i] & kLink)) continue;
      unsigned index_bits = entry_bits(table[i]) - root;
      if (used + (1u << index_bits) > capacity) return false;  // cannot happen: see kLitTableSize
      table[i] = make_entry(kLink, used, index_bits, root);
      used += 1u << index_bits;
    }
  }

  for (unsigned len = 0; len <= kMaxCodeBits; len++) next_code[len] = first_code[len];
  for (unsigned s = 0; s < count; s++) {
    unsigned len = lengths[s];
    if (len == 0) continue;
    unsigned reversed = reverse_bits(next_code[len]++, len);
    if (len <= root) {
      uint32_t e = symbol_entry(alphabet, s, len);
      for (unsigned i = reversed; i < root_size; i += 1u << len) table[i] = e;
    } else {
      uint32_t link = table[reversed & (root_size - 1)];
      uint32_t* sub = table + entry_value(link);
      unsigned sub_size = 1u << entry_extra(link);
      uint32_t e = symbol_entry(alphabet, s, len - root);
      for (unsigned i = reversed >> root; i < sub_size; i += 1u << (len - root)) sub[i] = e;
    }
  }
  return true;
}

// RFC 1951 3.2.6: the fixed codes, built at compile time.
struct FixedTables {
  uint32_t literal_length[1u << kLitRootBits] = {};
  uint32_t distance[1u << kDistRootBits] = {};
  bool ok = false;
};

constexpr FixedTables make_fixed_tables() {
  FixedTables t;
  uint8_t lengths[288] = {};
  for (unsigned s = 0; s < 288; s++) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
  uint8_t distance_lengths[32] = {};
  for (unsigned s = 0; s < 32; s++) distance_lengths[s] = 5;
  t.ok =
      build_table(lengths, 288, Alphabet::literal_length, kLitRootBits, t.literal_length,
                  1u << kLitRootBits) &&
      build_table(distance_lengths, 32, Alphabet::distance, kDistRootBits, t.distance, 1u << kDistRootBits);
  return t;
}

constexpr FixedTables kFixedTables = make_fixed_tables();
static_assert(kFixedTables.ok);

// The entry for the code at the front of `hold` and the code's whole length in bits.
inline uint32_t lookup(const uint32_t* table, unsigned root, uint64_t hold, unsigned& length) {
  uint32_t e = table[hold & ((1u << root) - 1)];
  if (__builtin_expect((e & kLink) != 0, 0)) {
    e = table[entry_value(e) + ((hold >> root) & ((1u << entry_extra(e)) - 1))];
    length = root + entry_bits(e);
    return e;
  }
  length = entry_bits(e);
  return e;
}

// Copies a match whose source starts `distance` bytes back; may write up to 7 bytes past its end.
inline void copy_match_fast(uint8_t* out, size_t distance, unsigned length) {
  const uint8_t* from = out - distance;
  if (distance >= 8) {
    // Each 8-byte source lies wholly before its destination, so overlapping matches repeat correctly.
    for (unsigned i = 0; i < length; i += 8) {
      uint64_t v;
      __builtin_memcpy(&v, from + i, 8);
      __builtin_memcpy(out + i, &v, 8);
    }
  } else if (distance == 1) {
    uint64_t v = from[0] * 0x0101010101010101ull;
    for (unsigned i = 0; i < length; i += 8) __builtin_memcpy(out + i, &v, 8);
  } else {
    // Distances 2..7: after one whole number of periods byte by byte, copy 8 bytes from that far back
    // and advance by as much; the bytes past the period are rewritten by the next copy.
    unsigned stride = 8 - 8 % static_cast<unsigned>(distance);
    unsigned i = 0;
    for (; i < stride && i < length; i++) out[i] = from[i];
    for (; i < length; i += stride) {
      uint64_t v;
      __builtin_memcpy(&v, out + i - stride, 8);
      __builtin_memcpy(out + i, &v, 8);
    }
  }
}

// What a decoding step leads to. `stop` is where zlib's inflate() returns without an error: the input is
// used up, the next output byte does not fit, or (for run()) the final block has ended.
enum class Flow : uint8_t { next, careful, stop, fail };

class Inflater {
 public:
  Inflater(ByteSpan in, uint8_t* out, size_t out_size)
      : start_(in.data), in_(in.data), end_(in.data + in.size), out_(out), out_size_(out_size) {}

  Result<void> run();

 private:
  // Tops the bit buffer up to at least 57 bits, or with all the input there is.
  void refill() {
    while (bits_ <= 56 && in_ < end_) {
      hold_ |= uint64_t{*in_++} << bits_;
      bits_ += 8;
    }
  }
  void drop(unsigned n) {
    hold_ >>= n;
    bits_ -= n;
  }
  unsigned take(unsigned n) {
    unsigned v = static_cast<unsigned>(hold_ & ((uint64_t{1} << n) - 1));
    drop(n);
    return v;
  }
  // The input byte holding the next unread bit.
  uint64_t offset() const { return static_cast<uint64_t>(in_ - start_) - bits_ / 8; }
  Flow fail(const char* message) {
    error_ = make_error(Errc::invalid, message, offset());
    return Flow::fail;
  }

  Flow stored_block();
  Flow dynamic_tables();
  Flow codes(const uint32_t* lit, const uint32_t* dist);
  Flow codes_fast(const uint32_t* lit, const uint32_t* dist);

  const uint8_t* start_;
  const uint8_t* in_;
  const uint8_t* end_;
  uint64_t hold_ = 0;  // bits not yet used, least significant first; bits past bits_ repeat the input
  unsigned bits_ = 0;
  uint8_t* out_;
  size_t out_size_;
  size_t pos_ = 0;
  bool last_ = false;
  Error error_ = make_error(Errc::invalid, "");
  uint32_t lit_[kLitTableSize];
  uint32_t dist_[kDistTableSize];
};

Result<void> Inflater::run() {
  bool ended = false;
  for (;;) {
    if (last_) {
      ended = true;
      break;
    }
    refill();
    if (bits_ < 3) break;
    last_ = (hold_ & 1) != 0;
    unsigned type = static_cast<unsigned>(hold_ >> 1) & 3;
    drop(3);
    Flow flow = Flow::next;
    switch (type) {
      case 0:
        flow = stored_block();
        break;
      case 1:
        flow = codes(kFixedTables.literal_length, kFixedTables.distance);
        break;
      case 2:
        flow = dynamic_tables();
        if (flow == Flow::next) flow = codes(lit_, dist_);
        break;
      default:
        flow = fail("Invalid DEFLATE block type at compressed byte {}");
        break;
    }
    if (flow == Flow::fail) return error_;
    if (flow == Flow::stop) break;
  }
  if (pos_ == out_size_) return ok();
  if (ended)
    return make_error(Errc::invalid, "The DEFLATE stream ends after {} of {} bytes", pos_, out_size_);
  return make_error(Errc::truncated, "The compressed data ends after {} of {} bytes", pos_, out_size_);
}

Flow Inflater::stored_block() {
  drop(bits_ & 7);
  // The buffer now holds whole bytes, the ones just before in_: give them back and read bytes directly.
  in_ -= bits_ / 8;
  hold_ = 0;
  bits_ = 0;
  if (end_ - in_ < 4) return Flow::stop;
  unsigned length = in_[0] | unsigned{in_[1]} << 8;
  unsigned complement = in_[2] | unsigned{in_[3]} << 8;
  if (length != (~complement & 0xffff))
    return fail("Invalid DEFLATE stored block length at compressed byte {}");
  in_ += 4;
  size_t n = length;
  if (n > static_cast<size_t>(end_ - in_)) n = static_cast<size_t>(end_ - in_);
  if (n > out_size_ - pos_) n = out_size_ - pos_;
  if (n > 0) __builtin_memcpy(out_ + pos_, in_, n);
  in_ += n;
  pos_ += n;
  return n < length ? Flow::stop : Flow::next;
}

Flow Inflater::dynamic_tables() {
  refill();
  if (bits_ < 14) return Flow::stop;
  unsigned literal_count = 257 + take(5);
  unsigned distance_count = 1 + take(5);
  unsigned code_length_count = 4 + take(4);
  if (literal_count > kMaxLitSymbols || distance_count > kMaxDistSymbols)
    return fail("Too many DEFLATE length or distance codes at compressed byte {}");

  uint8_t code_length_lengths[kCodeLengthSymbols] = {};
  for (unsigned i = 0; i < code_length_count; i++) {
    refill();
    if (bits_ < 3) return Flow::stop;
    code_length_lengths[kCodeLengthOrder[i]] = static_cast<uint8_t>(take(3));
  }
  uint32_t code_length_table[1u << kCodeLengthRootBits];
  if (!build_table(code_length_lengths, kCodeLengthSymbols, Alphabet::code_length, kCodeLengthRootBits,
                   code_length_table, 1u << kCodeLengthRootBits))
    return fail("Invalid DEFLATE code length code at compressed byte {}");

  uint8_t lengths[kMaxLitSymbols + kMaxDistSymbols];
  const unsigned total = literal_count + distance_count;
  unsigned have = 0;
  while (have < total) {
    refill();
    uint32_t e = code_length_table[hold_ & ((1u << kCodeLengthRootBits) - 1)];
    unsigned code_bits = entry_bits(e);
    unsigned symbol = entry_value(e);
    if (code_bits > bits_) return Flow::stop;
    if (symbol < 16) {
      drop(code_bits);
      lengths[have++] = static_cast<uint8_t>(symbol);
      continue;
    }
    unsigned extra = symbol == 16 ? 2 : symbol == 17 ? 3 : 7;
    if (code_bits + extra > bits_) return Flow::stop;
    drop(code_bits);
    uint8_t value = 0;
    unsigned repeat = 0;
    if (symbol == 16) {
      if (have == 0) return fail("DEFLATE code lengths repeat nothing at compressed byte {}");
      value = lengths[have - 1];
      repeat = 3 + take(2);
    } else if (symbol == 17) {
      repeat = 3 + take(3);
    } else {
      repeat = 11 + take(7);
    }
    if (repeat > total - have)
      return fail("DEFLATE code lengths repeat past the last code at compressed byte {}");
    while (repeat-- > 0) lengths[have++] = value;
  }
  if (lengths[256] == 0) return fail("DEFLATE block without an end-of-block code at compressed byte {}");
  if (!build_table(lengths, literal_count, Alphabet::literal_length, kLitRootBits, lit_, kLitTableSize))
    return fail("Invalid DEFLATE literal/length code at compressed byte {}");
  if (!build_table(lengths + literal_count, distance_count, Alphabet::distance, kDistRootBits, dist_,
                   kDistTableSize))
    return fail("Invalid DEFLATE distance code at compressed byte {}");
  return Flow::next;
}

// Decodes while every code with its extra bits surely lies in the input and any match fits the output
// with room to spare: nothing can stop decoding here, only an error or the end of the block.
Flow Inflater::codes_fast(const uint32_t* lit, const uint32_t* dist) {
  uint64_t hold = hold_;
  unsigned bits = bits_;
  const uint8_t* in = in_;
  // Locals, not members: a byte written through `out` could alias a member and force reloads.
  const uint8_t* const end = end_;
  uint8_t* const out_begin = out_;
  uint8_t* out = out_ + pos_;
  uint8_t* const out_limit = out_ + (out_size_ - kFastOutputRoom);
  Flow flow = Flow::careful;
  const char* error = nullptr;
  while (end - in >= 8 && out <= out_limit) {
    // At least 56 bits: a length code, its extra bits, a distance code and its extra bits take 48.
    uint64_t word;
    __builtin_memcpy(&word, in, 8);
    hold |= word << bits;
    in += (63 - bits) >> 3;
    bits |= 56;

    unsigned length;
    uint32_t e = lookup(lit, kLitRootBits, hold, length);
    hold >>= length;
    bits -= length;
    if (e & kLiteral) {
      *out++ = static_cast<uint8_t>(entry_value(e));
      // The 41 or more bits left hold a whole second code: take it too when it is a literal.
      e = lookup(lit, kLitRootBits, hold, length);
      if (e & kLiteral) {
        hold >>= length;
        bits -= length;
        *out++ = static_cast<uint8_t>(entry_value(e));
      }
      continue;
    }
    if (__builtin_expect((e & (kEndOfBlock | kInvalid)) != 0, 0)) {
      if (e & kEndOfBlock) {
        flow = Flow::next;
      } else {
        flow = Flow::fail;
        error = "Invalid DEFLATE literal/length code at compressed byte {}";
      }
      break;
    }
    unsigned extra = entry_extra(e);
    unsigned match_length = entry_value(e) + static_cast<unsigned>(hold & ((1u << extra) - 1));
    hold >>= extra;
    bits -= extra;
    e = lookup(dist, kDistRootBits, hold, length);
    hold >>= length;
    bits -= length;
    if (__builtin_expect((e & kInvalid) != 0, 0)) {
      flow = Flow::fail;
      error = "Invalid DEFLATE distance code at compressed byte {}";
      break;
    }
    extra = entry_extra(e);
    size_t distance = entry_value(e) + static_cast<size_t>(hold & ((1u << extra) - 1));
    hold >>= extra;
    bits -= extra;
    if (__builtin_expect(distance > static_cast<size_t>(out - out_begin), 0)) {
      flow = Flow::fail;
      error = "DEFLATE distance too far back at compressed byte {}";
      break;
    }
    copy_match_fast(out, distance, match_length);
    out += match_length;
  }
  hold_ = hold;
  bits_ = bits;
  in_ = in;
  pos_ = static_cast<size_t>(out - out_begin);
  return error != nullptr ? fail(error) : flow;
}

Flow Inflater::codes(const uint32_t* lit, const uint32_t* dist) {
  for (;;) {
    if (end_ - in_ >= 8 && out_size_ - pos_ >= kFastOutputRoom) {
      Flow flow = codes_fast(lit, dist);
      if (flow != Flow::careful) return flow;
    }
    // Near either end, one step at a time, stopping where zlib's inflate() returns.
    refill();
    unsigned length;
    uint32_t e = lookup(lit, kLitRootBits, hold_, length);
    if (length > bits_) return Flow::stop;
    drop(length);
    if (e & kLiteral) {
      if (pos_ == out_size_) return Flow::stop;
      out_[pos_++] = static_cast<uint8_t>(entry_value(e));
      continue;
    }
    if (e & kEndOfBlock) return Flow::next;
    if (e & kInvalid) return fail("Invalid DEFLATE literal/length code at compressed byte {}");
    unsigned extra = entry_extra(e);
    if (extra > bits_) return Flow::stop;
    unsigned match_length = entry_value(e) + take(extra);
    refill();
    e = lookup(dist, kDistRootBits, hold_, length);
    if (length > bits_) return Flow::stop;
    drop(length);
    if (e & kInvalid) return fail("Invalid DEFLATE distance code at compressed byte {}");
    extra = entry_extra(e);
    if (extra > bits_) return Flow::stop;
    size_t distance = entry_value(e) + take(extra);
    // zlib stops before it looks at the distance when the output is full.
    if (pos_ == out_size_) return Flow::stop;
    if (distance > pos_) return fail("DEFLATE distance too far back at compressed byte {}");
    size_t room = out_size_ - pos_;
    size_t n = match_length < room ? match_length : room;
    for (size_t i = 0; i < n; i++) out_[pos_ + i] = out_[pos_ + i - distance];
    pos_ += n;
    if (n < match_length) return Flow::stop;
  }
}

}  // namespace

Result<void> inflate_cluster(ByteSpan in, uint8_t* out, size_t out_size) {
  Inflater inflater(in, out, out_size);
  return inflater.run();
}

}  // namespace instar::compress
