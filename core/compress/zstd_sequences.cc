// zstd_sequences.cc: the sequences section: its FSE tables, decoding and execution (RFC 8878 3.1.1.3.2).
#include "core/compress/zstd_internal.h"

namespace instar::zstd {

namespace {

// libzstd 1.5.4 updates the three states after the last sequence too (the format says not to); the
// bits it reads then decide whether a stream with unused bits at its end is accepted.
constexpr bool kUpdateStatesAfterLastSequence = true;

constexpr unsigned kMaxLiteralLengthCode = 35, kMaxMatchLengthCode = 52, kMaxOffsetCode = 31;

constexpr uint32_t kLiteralLengthBase[36] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,   9,   10,  11,   12,   13,   14,   15,    16,    18,
    20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
constexpr uint8_t kLiteralLengthBits[36] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0,  0,  0,  0,  1,  1,
                                            1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr uint32_t kMatchLengthBase[53] = {
    3,  4,  5,  6,  7,  8,  9,  10,  11,  12,  13,   14,   15,   16,   17,    18,    19,   20,
    21, 22, 23, 24, 25, 26, 27, 28,  29,  30,  31,   32,   33,   34,   35,    37,    39,   41,
    43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539};
constexpr uint8_t kMatchLengthBits[53] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0,  0,  0,  0,  0,  0, 0,
                                          0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0,  0,  0,  1,  1,  1, 1,
                                          2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

// The predefined distributions (RFC 8878 3.1.1.3.2.2).
constexpr int16_t kDefaultLiteralLengths[36] = {4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1,  1,  2,  2,
                                                2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1};
constexpr int16_t kDefaultMatchLengths[53] = {1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1,  1,  1,  1,  1,  1,  1, 1,
                                              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  1,  1,  1,  1,  1,  1, 1,
                                              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1};
constexpr int16_t kDefaultOffsets[29] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 1,  1,  1,  1,  1, 1,
                                         1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1};

enum class Kind { literal_length, offset, match_length };

void set_code(ZstdSequenceState& e, Kind kind, unsigned code) {
  switch (kind) {
    case Kind::literal_length:
      e.base = kLiteralLengthBase[code];
      e.extra_bits = kLiteralLengthBits[code];
      break;
    case Kind::match_length:
      e.base = kMatchLengthBase[code];
      e.extra_bits = kMatchLengthBits[code];
      break;
    case Kind::offset:
      e.base = uint32_t{1} << code;  // the offset value before its extra bits
      e.extra_bits = uint8_t(code);
      break;
  }
}

void fill_table(const int16_t* norm, unsigned max_symbol, unsigned log, Kind kind, ZstdSequenceState* table) {
  FseCell cells[1 << kMaxFseLog];
  build_fse_table(norm, max_symbol, log, cells);
  for (uint32_t u = 0; u < (uint32_t{1} << log); u++) {
    set_code(table[u], kind, cells[u].symbol);
    table[u].state_bits = cells[u].bits;
    table[u].next_state = cells[u].next_state;
  }
}

// One table by its compression mode (RFC 8878 3.1.1.3.2.1.1); returns the bytes its description took.
Result<size_t> read_table(ByteSpan src, unsigned mode, Kind kind, ZstdWorkspace& ws) {
  ZstdSequenceState* table;
  uint8_t* log;
  unsigned max_symbol, max_log;
  const int16_t* defaults;
  unsigned default_log, default_max;
  switch (kind) {
    case Kind::literal_length:
      table = ws.literal_lengths, log = &ws.literal_lengths_log, max_symbol = kMaxLiteralLengthCode;
      max_log = 9, defaults = kDefaultLiteralLengths, default_log = 6, default_max = 35;
      break;
    case Kind::offset:
      table = ws.offsets, log = &ws.offsets_log, max_symbol = kMaxOffsetCode;
      max_log = 8, defaults = kDefaultOffsets, default_log = 5, default_max = 28;
      break;
    default:
      table = ws.match_lengths, log = &ws.match_lengths_log, max_symbol = kMaxMatchLengthCode;
      max_log = 9, defaults = kDefaultMatchLengths, default_log = 6, default_max = 52;
      break;
  }
  ws.seen |= kZstdSeenPredefinedTable << mode;  // predefined, RLE, FSE, repeat
  switch (mode) {
    case 0:
      fill_table(defaults, default_max, default_log, kind, table);
      *log = uint8_t(default_log);
      return size_t{0};
    case 1: {
      if (src.size < 1) return corrupt("zstd: RLE sequence code missing");
      unsigned code = src[0];
      if (code > max_symbol) return corrupt("zstd: RLE sequence code out of range");
      set_code(table[0], kind, code);
      table[0].state_bits = 0;
      table[0].next_state = 0;
      *log = 0;
      return size_t{1};
    }
    case 2: {
      int16_t norm[kMaxMatchLengthCode + 1];
      unsigned table_log;
      INSTAR_TRY_ASSIGN(size, read_fse_counts(src, max_symbol, max_log, norm, &table_log));
      fill_table(norm, max_symbol, table_log, kind, table);
      *log = uint8_t(table_log);
      return size;
    }
    default:
      if (!ws.have_sequence_tables) return corrupt("zstd: repeated sequence table without a previous one");
      return size_t{0};
  }
}

// Copies n bytes from src to dst that may overlap forwards by `distance` (src = dst - distance), 8 at a
// time; dst + n + 16 must be writable.
inline void copy_match_fast(uint8_t* dst, size_t distance, size_t n) {
  const uint8_t* src = dst - distance;
  if (distance >= 16) {
    for (size_t i = 0; i < n; i += 16) __builtin_memcpy(dst + i, src + i, 16);
    return;
  }
  if (distance >= 8) {
    for (size_t i = 0; i < n; i += 8) __builtin_memcpy(dst + i, src + i, 8);
    return;
  }
  // Short distance: build one period-aligned 8-byte step first, then copy from that far back.
  size_t step = distance * (8 / distance + (8 % distance != 0));
  size_t head = step < n ? step : n;
  for (size_t i = 0; i < head; i++) dst[i] = src[i];
  for (size_t i = head; i < n; i += 8) __builtin_memcpy(dst + i, dst + i - step, 8);
}

}  // namespace

Result<size_t> decode_sequences(ByteSpan section, const Literals& literals, const BlockOutput& o,
                                ZstdWorkspace& ws) {
  if (section.size < 1) return corrupt("zstd: sequences section missing");
  const uint8_t* ip = section.data;
  const uint8_t* end = section.data + section.size;
  size_t count = *ip++;
  if (count == 0) {
    if (section.size != 1) return corrupt("zstd: bytes after an empty sequences section");
  } else if (count == 255) {
    if (end - ip < 2) return corrupt("zstd: sequence count truncated");
    count = (ip[0] | size_t{ip[1]} << 8) + 0x7F00;
    ip += 2;
  } else if (count > 127) {
    if (ip >= end) return corrupt("zstd: sequence count truncated");
    count = ((count - 128) << 8) + *ip++;
  }

  uint8_t* const out = o.out;
  size_t op = o.pos;
  const size_t limit = o.block_limit;
  const uint8_t* lit = ws.literals;
  const uint8_t* const lit_end = ws.literals + literals.count;

  if (section.size != 1) {
    if (ip >= end) return corrupt("zstd: sequence modes missing");
    unsigned modes = *ip++;
    INSTAR_TRY_ASSIGN(ll_size,
                      read_table(ByteSpan(ip, size_t(end - ip)), modes >> 6, Kind::literal_length, ws));
    ip += ll_size;
    INSTAR_TRY_ASSIGN(of_size,
                      read_table(ByteSpan(ip, size_t(end - ip)), (modes >> 4) & 3, Kind::offset, ws));
    ip += of_size;
    INSTAR_TRY_ASSIGN(ml_size,
                      read_table(ByteSpan(ip, size_t(end - ip)), (modes >> 2) & 3, Kind::match_length, ws));
    ip += ml_size;
  }

  if (count > 0) {
    ws.have_sequence_tables = true;
    BackwardBits bits;
    if (!bits.init(ip, size_t(end - ip))) return corrupt("zstd: bad sequences bitstream");
    const ZstdSequenceState* const ll_table = ws.literal_lengths;
    const ZstdSequenceState* const of_table = ws.offsets;
    const ZstdSequenceState* const ml_table = ws.match_lengths;
    uint32_t ll_state = uint32_t(bits.read(ws.literal_lengths_log));
    uint32_t of_state = uint32_t(bits.read(ws.offsets_log));
    uint32_t ml_state = uint32_t(bits.read(ws.match_lengths_log));
    bits.reload();
    uint32_t rep0 = ws.repeat_offsets[0], rep1 = ws.repeat_offsets[1], rep2 = ws.repeat_offsets[2];
    const size_t frame_start = o.frame_start;
    const size_t out_size = o.out_size;
    bool repeats = false;

    for (size_t n = count; n > 0; n--) {
      const ZstdSequenceState ll = ll_table[ll_state];
      const ZstdSequenceState of = of_table[of_state];
      const ZstdSequenceState ml = ml_table[ml_state];
      // Offset, then match length, then literal length (refilling as libzstd does in between).
      uint32_t offset_value = of.base + uint32_t(bits.read(of.extra_bits));
      size_t match_length = ml.base + size_t(bits.read(ml.extra_bits));
      if (of.extra_bits + ml.extra_bits + ll.extra_bits >= 31) bits.reload();
      size_t literal_length = ll.base + size_t(bits.read(ll.extra_bits));
      uint32_t offset;
      if (offset_value > 3) {
        offset = offset_value - 3;
        rep2 = rep1;
        rep1 = rep0;
        rep0 = offset;
      } else {
        unsigned index = offset_value - 1 + (literal_length == 0);
        repeats = true;
        if (index == 0) {
          offset = rep0;
        } else {
          offset = index == 3 ? rep0 - 1 : index == 1 ? rep1 : rep2;
          if (offset == 0) offset = 1;  // libzstd's reading of a corrupt repeat
          if (index != 1) rep2 = rep1;
          rep1 = rep0;
          rep0 = offset;
        }
      }
      if (n > 1 || kUpdateStatesAfterLastSequence) {
        ll_state = ll.next_state + uint32_t(bits.read(ll.state_bits));
        ml_state = ml.next_state + uint32_t(bits.read(ml.state_bits));
        of_state = of.next_state + uint32_t(bits.read(of.state_bits));
        bits.reload();
      }

      // Execute: literals, then the match.
      if (literal_length > size_t(lit_end - lit)) return corrupt("zstd: sequence needs more literals");
      if (literal_length + match_length > limit - op)
        return make_error(Errc::no_space, "zstd: block exceeds its output");
      size_t produced = op + literal_length - frame_start;
      if (offset > produced) return corrupt("zstd: match offset before the frame's start");
      if (o.streaming && offset > o.window) ws.quirks |= kZstdQuirkFarOffset;
      uint8_t* dst = out + op;
      if (op + literal_length + match_length + 32 <= out_size) {
        for (size_t i = 0; i < literal_length; i += 16) __builtin_memcpy(dst + i, lit + i, 16);
        copy_match_fast(dst + literal_length, offset, match_length);
      } else {
        for (size_t i = 0; i < literal_length; i++) dst[i] = lit[i];
        uint8_t* m = dst + literal_length;
        const uint8_t* from = m - offset;
        for (size_t i = 0; i < match_length; i++) m[i] = from[i];
      }
      lit += literal_length;
      op += literal_length + match_length;
    }
    bits.reload();
    if (!bits.all_consumed()) return corrupt("zstd: sequences bitstream not used up");
    if (repeats) ws.seen |= kZstdSeenRepeatOffset;
    ws.repeat_offsets[0] = rep0;
    ws.repeat_offsets[1] = rep1;
    ws.repeat_offsets[2] = rep2;
  }
  size_t rest = size_t(lit_end - lit);
  if (rest > limit - op) return make_error(Errc::no_space, "zstd: block exceeds its output");
  if (rest > 0) __builtin_memcpy(out + op, lit, rest);
  op += rest;
  return op - o.pos;
}

}  // namespace instar::zstd
