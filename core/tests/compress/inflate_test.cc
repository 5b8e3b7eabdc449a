#include "core/compress/inflate.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace instar::compress {
namespace {

using Bytes = std::vector<uint8_t>;

// ---- the reference: what qemu's qcow2_zlib_decompress does with the host's zlib ----------------------

struct Outcome {
  bool ok = false;
  Bytes out;
};

Outcome zlib_qemu(const Bytes& in, size_t out_size) {
  Outcome r;
  r.out.assign(out_size, 0);
  z_stream s{};
  s.next_in = const_cast<Bytef*>(in.data());
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = r.out.data();
  s.avail_out = static_cast<uInt>(out_size);
  if (inflateInit2(&s, -12) != Z_OK) std::abort();
  int ret = inflate(&s, Z_FINISH);
  r.ok = (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && s.avail_out == 0;
  inflateEnd(&s);
  return r;
}

Outcome ours(const Bytes& in, size_t out_size) {
  Outcome r;
  r.out.assign(out_size, 0);
  r.ok = inflate_cluster(ByteSpan(in.data(), in.size()), r.out.data(), out_size).is_ok();
  return r;
}

// Both decoders agree on success and, on success, on every byte; returns whether they succeeded.
bool agree(const Bytes& in, size_t out_size, const std::string& what = "") {
  Outcome z = zlib_qemu(in, out_size);
  Outcome o = ours(in, out_size);
  EXPECT_EQ(o.ok, z.ok) << what << " (in " << in.size() << " bytes, out " << out_size << ")";
  if (o.ok && z.ok) {
    EXPECT_TRUE(o.out == z.out) << what;
  }
  return o.ok && z.ok;
}

Bytes deflate_raw(const Bytes& data, int level, int window_bits, int mem_level, int strategy) {
  z_stream s{};
  if (deflateInit2(&s, level, Z_DEFLATED, window_bits, mem_level, strategy) != Z_OK) std::abort();
  Bytes out(deflateBound(&s, data.size()) + 16);
  s.next_in = const_cast<Bytef*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  if (deflate(&s, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// ---- data -------------------------------------------------------------------------------------------

Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// Text-like data with repeats near and far, runs of zeros and some noise: what disk clusters look like.
Bytes compressible_bytes(size_t n, uint32_t seed) {
  static const char* const kWords[] = {"qcow2 ", "cluster ", "the ",    "refcount ", "table ",
                                       "of ",    "image ",   "\n",      "snapshot ", "{ ",
                                       "} ",     "int ",     "return ", "0x1f; ",    "map "};
  std::mt19937 rng(seed);
  Bytes b;
  b.reserve(n);
  while (b.size() < n) {
    switch (rng() % 8) {
      case 0:
        b.insert(b.end(), rng() % 300, 0);
        break;
      case 1:
        for (int i = 0, m = rng() % 40; i < m; i++) b.push_back(static_cast<uint8_t>(rng()));
        break;
      case 2:
        if (b.size() > 64) {
          size_t from = rng() % b.size(), len = 3 + rng() % 300;
          for (size_t i = 0; i < len; i++) b.push_back(b[from + i % (b.size() - from)]);
        }
        break;
      default:
        for (int i = 0, m = 1 + rng() % 12; i < m; i++) {
          const char* w = kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
          b.insert(b.end(), w, w + std::char_traits<char>::length(w));
        }
    }
  }
  b.resize(n);
  return b;
}

// ---- hand-built streams -----------------------------------------------------------------------------

class BitWriter {
 public:
  // Header fields and extra bits: least significant bit first.
  BitWriter& bits(uint32_t value, unsigned n) {
    for (unsigned i = 0; i < n; i++) put((value >> i) & 1);
    return *this;
  }
  // Huffman codes: most significant bit first.
  BitWriter& code(uint32_t value, unsigned n) {
    for (unsigned i = n; i-- > 0;) put((value >> i) & 1);
    return *this;
  }
  BitWriter& align() {
    while (count_ % 8 != 0) put(0);
    return *this;
  }
  BitWriter& byte(uint8_t b) { return bits(b, 8); }
  Bytes finish() const { return bytes_; }

 private:
  void put(unsigned bit) {
    if (count_ % 8 == 0) bytes_.push_back(0);
    bytes_.back() |= static_cast<uint8_t>(bit << (count_ % 8));
    count_++;
  }
  Bytes bytes_;
  size_t count_ = 0;
};

// RFC 1951 3.2.2: canonical codes from code lengths.
std::vector<uint32_t> canonical_codes(const Bytes& lengths) {
  unsigned count[16] = {}, next[16] = {};
  for (uint8_t l : lengths) count[l]++;
  count[0] = 0;
  for (unsigned len = 1, code = 0; len < 16; len++) next[len] = code = (code + count[len - 1]) << 1;
  std::vector<uint32_t> codes(lengths.size());
  for (size_t s = 0; s < lengths.size(); s++)
    if (lengths[s] != 0) codes[s] = next[lengths[s]]++;
  return codes;
}

struct LengthCode {
  unsigned symbol, extra_bits, extra;
};
LengthCode length_code(unsigned length) {
  static const unsigned base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
  static const unsigned extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                     2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  for (unsigned i = 29; i-- > 0;)
    if (length >= base[i]) return {257 + i, extra[i], length - base[i]};
  std::abort();
}
LengthCode distance_code(unsigned distance) {
  for (unsigned i = 30; i-- > 0;) {
    unsigned extra = i < 4 ? 0 : i / 2 - 1;
    unsigned base = i < 4 ? i + 1 : ((2u + (i & 1)) << extra) + 1;
    if (distance >= base) return {i, extra, distance - base};
  }
  std::abort();
}

// The fixed code (RFC 1951 3.2.6).
void fixed_symbol(BitWriter& w, unsigned s) {
  if (s < 144)
    w.code(0x30 + s, 8);
  else if (s < 256)
    w.code(0x190 + s - 144, 9);
  else if (s < 280)
    w.code(s - 256, 7);
  else
    w.code(0xc0 + s - 280, 8);
}
void fixed_match(BitWriter& w, unsigned length, unsigned distance) {
  LengthCode l = length_code(length), d = distance_code(distance);
  fixed_symbol(w, l.symbol);
  w.bits(l.extra, l.extra_bits);
  w.code(d.symbol, 5).bits(d.extra, d.extra_bits);
}
void fixed_literals(BitWriter& w, const Bytes& data) {
  for (uint8_t b : data) fixed_symbol(w, b);
}

void stored(BitWriter& w, bool final, const Bytes& data, uint16_t length_xor = 0) {
  w.bits(final, 1).bits(0, 2).align();
  uint16_t len = static_cast<uint16_t>(data.size());
  w.bits(len, 16).bits(static_cast<uint16_t>(~len ^ length_xor), 16);
  for (uint8_t b : data) w.byte(b);
}

// A dynamic block whose header sends every length with a flat 4-bit code-length code (symbols 0-15).
struct Dynamic {
  Bytes lit, dist;
  std::vector<uint32_t> lit_codes, dist_codes;
  Dynamic(Bytes l, Bytes d) : lit(std::move(l)), dist(std::move(d)) {
    lit_codes = canonical_codes(lit);
    dist_codes = canonical_codes(dist);
  }
  void header(BitWriter& w, bool final) const {
    w.bits(final, 1).bits(2, 2);
    w.bits(static_cast<uint32_t>(lit.size() - 257), 5)
        .bits(static_cast<uint32_t>(dist.size() - 1), 5)
        .bits(15, 4);
    static const unsigned order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    for (unsigned i = 0; i < 19; i++) w.bits(order[i] < 16 ? 4 : 0, 3);
    for (uint8_t l : lit) w.code(l, 4);  // with 16 four-bit codes, symbol n's code is n
    for (uint8_t l : dist) w.code(l, 4);
  }
  void symbol(BitWriter& w, unsigned s) const { w.code(lit_codes.at(s), lit.at(s)); }
  void match(BitWriter& w, unsigned length, unsigned distance) const {
    LengthCode l = length_code(length), d = distance_code(distance);
    symbol(w, l.symbol);
    w.bits(l.extra, l.extra_bits);
    w.code(dist_codes.at(d.symbol), dist.at(d.symbol)).bits(d.extra, d.extra_bits);
  }
};

// A complete literal/length code over all 286 symbols (226 of 8 bits, 60 of 9) and distance code (2 of
// 4 bits, 28 of 5).
Bytes full_lit_lengths() {
  Bytes l(286, 9);
  for (int s = 0; s < 226; s++) l[s] = 8;
  return l;
}
Bytes full_dist_lengths() {
  Bytes d(30, 5);
  d[0] = d[1] = 4;
  return d;
}

// Expects both decoders to give `expect_ok`; the expectation itself is checked against zlib.
void expect_outcome(const Bytes& in, size_t out_size, bool expect_ok, const char* what) {
  Outcome z = zlib_qemu(in, out_size);
  EXPECT_EQ(z.ok, expect_ok) << "zlib disagrees with the test's expectation: " << what;
  Outcome o = ours(in, out_size);
  EXPECT_EQ(o.ok, expect_ok) << what;
  if (o.ok && z.ok) {
    EXPECT_TRUE(o.out == z.out) << what;
  }
}

Errc error_code(const Bytes& in, size_t out_size) {
  Bytes out(out_size);
  auto r = inflate_cluster(ByteSpan(in.data(), in.size()), out.data(), out_size);
  return r.is_ok() ? static_cast<Errc>(0xff) : r.error().code;
}

// ---- round trips ------------------------------------------------------------------------------------

TEST(Inflate, RoundTripsEveryZlibStrategyLevelAndWindow) {
  const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
  const size_t sizes[] = {512, 4096, 65536};
  for (int window_bits : {-12, -15})
    for (int mem_level : {8, 9})
      for (int strategy : strategies)
        for (int level = 0; level <= 9; level += (strategy == Z_DEFAULT_STRATEGY ? 1 : 3))
          for (size_t size : sizes)
            for (int kind = 0; kind < 3; kind++) {
              uint32_t seed = static_cast<uint32_t>(size + level * 7 + strategy * 131 + kind);
              Bytes data = kind == 0   ? random_bytes(size, seed)
                           : kind == 1 ? compressible_bytes(size, seed)
                                       : Bytes(size, 0);
              Bytes z = deflate_raw(data, level, window_bits, mem_level, strategy);
              Outcome o = ours(z, size);
              ASSERT_TRUE(o.ok) << "wbits " << window_bits << " mem " << mem_level << " strategy " << strategy
                                << " level " << level << " size " << size << " kind " << kind;
              ASSERT_TRUE(o.out == data);
            }
}

TEST(Inflate, RoundTripsTwoMebibyteClusters) {
  for (int strategy : {Z_DEFAULT_STRATEGY, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED})
    for (int level : {0, 1, 6, 9}) {
      if (strategy != Z_DEFAULT_STRATEGY && level != 6) continue;
      for (int kind = 0; kind < 2; kind++) {
        Bytes data = kind == 0 ? random_bytes(2 << 20, level) : compressible_bytes(2 << 20, level);
        Bytes z = deflate_raw(data, level, -12, 8, strategy);
        Outcome o = ours(z, data.size());
        ASSERT_TRUE(o.ok) << "strategy " << strategy << " level " << level << " kind " << kind;
        ASSERT_TRUE(o.out == data);
      }
    }
}

TEST(Inflate, EmptyInputFails) {
  uint8_t out[512];
  auto r = inflate_cluster(ByteSpan(), out, sizeof out);
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.error().code, Errc::truncated);
}

// ---- qemu's rule: the output must be filled, the rest of the input does not matter ------------------

TEST(Inflate, TrailingGarbageAfterTheStreamIsIgnored) {
  Bytes data = compressible_bytes(65536, 1);
  Bytes z = deflate_raw(data, 6, -12, 8, Z_DEFAULT_STRATEGY);
  for (uint8_t fill : {0x00, 0xff, 0x5a}) {
    Bytes padded = z;
    padded.insert(padded.end(), 511, fill);  // qcow2 rounds compressed sizes up to sectors
    EXPECT_TRUE(agree(padded, data.size()));
  }
}

TEST(Inflate, OutputFilledBeforeTheStreamEndsSucceeds) {
  Bytes data = compressible_bytes(65536, 2);
  Bytes z = deflate_raw(data, 6, -12, 8, Z_DEFAULT_STRATEGY);
  for (size_t out_size : {512u, 4096u, 30000u, 65535u}) {
    Outcome o = ours(z, out_size);
    ASSERT_TRUE(o.ok) << out_size;
    EXPECT_TRUE(Bytes(data.begin(), data.begin() + out_size) == o.out);
    EXPECT_TRUE(agree(z, out_size));
  }
}

TEST(Inflate, StreamEndingBeforeTheOutputIsFullFails) {
  Bytes data = compressible_bytes(4096, 3);
  Bytes z = deflate_raw(data, 6, -12, 8, Z_DEFAULT_STRATEGY);
  z.insert(z.end(), 100, 0);
  EXPECT_FALSE(agree(z, 4097));
  EXPECT_EQ(error_code(z, 4097), Errc::invalid);
}

TEST(Inflate, TruncatedInputAgreesWithZlibAtEveryLength) {
  for (int strategy : {Z_DEFAULT_STRATEGY, Z_FIXED, Z_HUFFMAN_ONLY})
    for (int level : {0, 6}) {
      Bytes data = compressible_bytes(2048, static_cast<uint32_t>(level + strategy));
      Bytes z = deflate_raw(data, level, -12, 8, strategy);
      for (size_t n = 0; n < z.size(); n++) agree(Bytes(z.begin(), z.begin() + n), data.size(), "prefix");
      // Cut in the middle: the output cannot be full.
      Bytes half(z.begin(), z.begin() + z.size() / 2);
      EXPECT_FALSE(agree(half, data.size()));
      EXPECT_EQ(error_code(half, data.size()), Errc::truncated);
    }
}

// ---- block kinds ------------------------------------------------------------------------------------

TEST(Inflate, StoredBlocks) {
  Bytes a = random_bytes(300, 4), b = random_bytes(212, 5);
  BitWriter w;
  stored(w, false, a);
  stored(w, false, {});
  stored(w, true, b);
  Bytes in = w.finish();
  expect_outcome(in, 512, true, "three stored blocks");
  Outcome o = ours(in, 512);
  Bytes want = a;
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_TRUE(o.out == want);
  // A stored block longer than the room left: the output fills and the rest is not read.
  expect_outcome(in, 400, true, "stored block cut by the output");
  // A stored block whose bytes run out.
  expect_outcome(Bytes(in.begin(), in.end() - 1), 512, false, "stored block cut by the input");
}

TEST(Inflate, StoredBlockAfterBitsUsesTheNextByte) {
  // A fixed block ending mid-byte, then a stored block: its length starts at the next byte boundary.
  BitWriter w;
  w.bits(0, 1).bits(1, 2);
  fixed_literals(w, {'x', 'y', 'z'});
  fixed_symbol(w, 256);
  stored(w, true, random_bytes(509, 6));
  expect_outcome(w.finish(), 512, true, "fixed then stored");
}

TEST(Inflate, FixedHuffmanBlock) {
  BitWriter w;
  w.bits(1, 1).bits(1, 2);
  Bytes lits = random_bytes(200, 7);
  fixed_literals(w, lits);
  fixed_match(w, 258, 200);
  fixed_match(w, 54, 1);
  fixed_symbol(w, 256);
  expect_outcome(w.finish(), 512, true, "fixed block");
}

TEST(Inflate, DynamicBlockWithFullCodes) {
  Dynamic d(full_lit_lengths(), full_dist_lengths());
  BitWriter w;
  d.header(w, true);
  for (unsigned s = 0; s < 256; s++) d.symbol(w, s);
  for (unsigned len = 3; len <= 258; len++) d.match(w, len, 256);
  for (unsigned dist = 1; dist <= 256 + 33024; dist += 97) d.match(w, 3, dist);
  d.symbol(w, 256);
  Bytes in = w.finish();
  size_t out_size = 256 + (256 * 261 / 2) + 3 * ((256 + 33024 - 1) / 97 + 1);
  expect_outcome(in, out_size, true, "every length and distance code");
}

TEST(Inflate, OverlappingMatchesRepeatThePattern) {
  // Every distance up to 17 with lengths around the 8-byte copies, far from the end of the output (the
  // fast path) and then up to it (one step at a time).
  BitWriter w;
  w.bits(1, 1).bits(1, 2);
  fixed_literals(w, random_bytes(17, 17));
  size_t out_size = 17;
  for (unsigned distance = 1; distance <= 17; distance++)
    for (unsigned length : {3u, 7u, 8u, 9u, 15u, 16u, 17u, 100u, 257u, 258u}) {
      fixed_match(w, length, distance);
      fixed_symbol(w, distance * 7);  // a literal between matches
      out_size += length + 1;
    }
  fixed_symbol(w, 256);
  expect_outcome(w.finish(), out_size, true, "overlapping matches");
}

// ---- zlib's window does not limit one inflate() call ---------------------------------------------------

TEST(Inflate, DistanceBeyondTheFourKibWindowIsAccepted) {
  Bytes head = random_bytes(33000, 8);
  BitWriter w;
  stored(w, false, head);
  w.bits(1, 1).bits(1, 2);
  fixed_match(w, 258, 30000);  // 30000 > 4096 = 1 << 12
  fixed_match(w, 258, 32768);  // the longest distance DEFLATE has
  fixed_symbol(w, 256);
  Bytes in = w.finish();
  expect_outcome(in, 33000 + 516, true, "distances of 30000 and 32768 with windowBits -12");
  Outcome o = ours(in, 33000 + 516);
  EXPECT_TRUE(std::equal(head.begin() + 3000, head.begin() + 3258, o.out.begin() + 33000));
  EXPECT_TRUE(std::equal(head.begin() + 490, head.begin() + 748, o.out.begin() + 33258));

  // And data zlib compressed with a 32 KiB window decompresses with qemu's -12.
  Bytes data = random_bytes(20000, 9);
  Bytes twice = data;
  twice.insert(twice.end(), data.begin(), data.end());
  Bytes z = deflate_raw(twice, 9, -15, 9, Z_DEFAULT_STRATEGY);
  EXPECT_LT(z.size(), 21000u);  // the second copy was sent as matches 20000 back
  EXPECT_TRUE(agree(z, twice.size(), "-15 stream, -12 decoder"));
}

TEST(Inflate, DistanceTooFarBackFails) {
  BitWriter w;
  w.bits(1, 1).bits(1, 2);
  fixed_literals(w, random_bytes(100, 10));
  fixed_match(w, 10, 101);
  fixed_symbol(w, 256);
  expect_outcome(w.finish(), 512, false, "distance 101 after 100 bytes");
  EXPECT_EQ(error_code(w.finish(), 512), Errc::invalid);

  BitWriter ok;
  ok.bits(1, 1).bits(1, 2);
  fixed_literals(ok, random_bytes(100, 10));
  fixed_match(ok, 258, 100);
  fixed_match(ok, 154, 100);
  fixed_symbol(ok, 256);
  expect_outcome(ok.finish(), 512, true, "distance 100 after 100 bytes");

  BitWriter first;
  first.bits(1, 1).bits(1, 2);
  fixed_match(first, 3, 1);
  expect_outcome(first.finish(), 512, false, "a match before any output");
}

// ---- every error class, built by hand ---------------------------------------------------------------

TEST(Inflate, BlockTypeThreeFails) {
  BitWriter w;
  w.bits(1, 1).bits(3, 2).bits(0, 16);
  expect_outcome(w.finish(), 512, false, "block type 3");
}

TEST(Inflate, StoredLengthMismatchFails) {
  BitWriter w;
  stored(w, true, random_bytes(512, 11), 0x0100);
  expect_outcome(w.finish(), 512, false, "LEN != ~NLEN");
}

TEST(Inflate, TooManyLengthOrDistanceSymbolsFails) {
  for (unsigned hlit : {29u, 30u, 31u})
    for (unsigned hdist : {29u, 30u, 31u}) {
      BitWriter w;
      w.bits(1, 1).bits(2, 2).bits(hlit, 5).bits(hdist, 5).bits(15, 4);
      for (int i = 0; i < 19; i++) w.bits(4, 3);
      w.bits(0, 32);
      // With nineteen 4-bit code-length codes, a header with few enough symbols fails one step later.
      Bytes in = w.finish();
      Bytes out(512);
      auto r = inflate_cluster(ByteSpan(in.data(), in.size()), out.data(), out.size());
      ASSERT_TRUE(r.is_error());
      bool too_many = hlit > 29 || hdist > 29;
      EXPECT_EQ(std::string(r.error().message).rfind("Too many", 0) == 0, too_many) << hlit << " " << hdist;
      EXPECT_FALSE(agree(in, 512));
    }
}

// A final dynamic block's header with the given code-length code lengths (19, in symbol order), then the
// code-length symbols (with their extra bits, in order).
BitWriter header_with_code_length_code(const Bytes& cl_lengths, unsigned hlit, unsigned hdist,
                                       const std::vector<unsigned>& symbols, const Bytes& extra_bits = {}) {
  static const unsigned order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  std::vector<uint32_t> codes = canonical_codes(cl_lengths);
  BitWriter w;
  w.bits(1, 1).bits(2, 2).bits(hlit, 5).bits(hdist, 5).bits(15, 4);
  for (unsigned i = 0; i < 19; i++) w.bits(cl_lengths[order[i]], 3);
  size_t extra_at = 0;
  for (unsigned s : symbols) {
    w.code(codes[s], cl_lengths[s]);
    if (s == 16) w.bits(extra_bits.at(extra_at++), 2);
    if (s == 17) w.bits(extra_bits.at(extra_at++), 3);
    if (s == 18) w.bits(extra_bits.at(extra_at++), 7);
  }
  return w;
}

// The header and 8 bytes of 0xa5 after it, so that the input does not end first.
Bytes header_then_garbage(const Bytes& cl_lengths, unsigned hlit, unsigned hdist,
                          const std::vector<unsigned>& symbols, const Bytes& extra_bits = {}) {
  BitWriter w = header_with_code_length_code(cl_lengths, hlit, hdist, symbols, extra_bits);
  for (int i = 0; i < 8; i++) w.bits(0xa5, 8);
  return w.finish();
}

// Code-length code: 0..15 four bits each, 16/17/18 absent unless given.
Bytes flat_code_length_code() {
  Bytes l(19, 4);
  l[16] = l[17] = l[18] = 0;
  return l;
}

TEST(Inflate, InvalidCodeLengthCodeFails) {
  Bytes over(19, 2);  // 19 codes of two bits: over-subscribed
  expect_outcome(header_then_garbage(over, 0, 0, {}), 512, false, "over-subscribed code-length code");
  Bytes incomplete = flat_code_length_code();
  incomplete[15] = 0;  // 15 four-bit codes: incomplete
  expect_outcome(header_then_garbage(incomplete, 0, 0, {}), 512, false, "incomplete code-length code");
  Bytes single(19, 0);
  single[8] =
      1;  // one one-bit code: incomplete, and zlib allows that only for literal/length and distance codes
  expect_outcome(header_then_garbage(single, 0, 0, {}), 512, false, "single code-length code");
}

TEST(Inflate, EmptyCodeLengthCodeReadsZerosUntilTheMissingEndOfBlock) {
  // zlib accepts a code-length code with no codes and decodes every symbol as length 0 in one bit; the
  // block then has no end-of-block code. Where exactly it fails matters only when the output is full.
  Bytes none(19, 0);
  expect_outcome(header_then_garbage(none, 0, 0, {}), 512, false, "empty code-length code");
  // Output full from a first block, then this header cut short: the input ends before the error.
  BitWriter w;
  stored(w, false, random_bytes(512, 12));
  w.bits(0, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(15, 4);
  for (int i = 0; i < 19; i++) w.bits(0, 3);
  Bytes cut = w.finish();  // 258 one-bit symbols needed; none given
  expect_outcome(cut, 512, true, "full, then an empty code-length code cut short");
  for (int i = 0; i < 40; i++) w.bits(0, 8);  // 320 bits: the lengths are read and found wanting
  expect_outcome(w.finish(), 512, false, "full, then an empty code-length code");
}

TEST(Inflate, RepeatWithoutAPreviousLengthFails) {
  Bytes cl = flat_code_length_code();
  cl[16] = 4;
  cl[15] = 0;  // keep the code complete: 0..14 and 16
  expect_outcome(header_then_garbage(cl, 0, 0, {16}, {0}), 512, false, "16 first");
}

TEST(Inflate, RepeatPastTheLastLengthFails) {
  Bytes cl = flat_code_length_code();
  cl[18] = 4;
  cl[15] = 0;  // 0..14 and 18: sixteen 4-bit codes
  // 257 + 1 lengths: 138 + 111 zeros, then 11 more run past 258.
  expect_outcome(header_then_garbage(cl, 0, 0, {18, 18, 18}, {127, 100, 0}), 512, false,
                 "repeat past the end");
  // Reaching exactly the end is fine for the header (the block then lacks an end-of-block code).
  expect_outcome(header_then_garbage(cl, 0, 0, {18, 18, 18}, {127, 98, 0}), 512, false, "repeat to the end");
}

TEST(Inflate, RepeatAcrossTheLiteralDistanceBoundaryIsAccepted) {
  // Literal/length: 0..253 of 8 bits, 254..257 of 9 (complete), 258..285 none; one run of 30 zeros covers
  // the last 28 literal/length lengths and the first 2 distance lengths; distances 2..5 of 4 bits, 6..29
  // of 5 (complete).
  Bytes cl = flat_code_length_code();
  cl[18] = 4;
  cl[15] = 0;
  std::vector<unsigned> symbols;
  for (unsigned s = 0; s < 254; s++) symbols.push_back(8);
  for (unsigned s = 254; s < 258; s++) symbols.push_back(9);
  symbols.push_back(18);
  for (unsigned s = 2; s < 6; s++) symbols.push_back(4);
  for (unsigned s = 6; s < 30; s++) symbols.push_back(5);
  BitWriter w = header_with_code_length_code(cl, 29, 29, symbols, {30 - 11});
  Bytes lit(286, 0), dist(30, 0);
  for (unsigned s = 0; s < 258; s++) lit[s] = s < 254 ? 8 : 9;
  for (unsigned s = 2; s < 30; s++) dist[s] = s < 6 ? 4 : 5;
  Dynamic d(lit, dist);
  for (uint8_t c : {'a', 'b', 'c'}) d.symbol(w, c);
  for (int i = 0; i < 3; i++) d.match(w, 3, 3);  // 257 is the only length code
  d.symbol(w, 'a');
  d.symbol(w, 256);
  expect_outcome(w.finish(), 13, true, "a zero run across the boundary");
  Outcome o = ours(w.finish(), 13);
  EXPECT_EQ(std::string(o.out.begin(), o.out.end()), "abcabcabcabca");
}

TEST(Inflate, MissingEndOfBlockCodeFails) {
  Bytes lit = full_lit_lengths();
  lit[256] = 0;
  Dynamic d(lit, full_dist_lengths());
  BitWriter w;
  d.header(w, true);
  w.bits(0, 32);
  expect_outcome(w.finish(), 512, false, "no end-of-block code");
}

TEST(Inflate, OversubscribedAndIncompleteLiteralLengthCodesFail) {
  Bytes over = full_lit_lengths();
  over[280] = 8;
  Dynamic d1(over, full_dist_lengths());
  BitWriter w1;
  d1.header(w1, true);
  w1.bits(0, 32);
  expect_outcome(w1.finish(), 512, false, "over-subscribed literal/length code");

  Bytes incomplete = full_lit_lengths();
  incomplete[285] = 0;
  Dynamic d2(incomplete, full_dist_lengths());
  BitWriter w2;
  d2.header(w2, true);
  w2.bits(0, 32);
  expect_outcome(w2.finish(), 512, false, "incomplete literal/length code");
}

TEST(Inflate, SingleOneBitLiteralLengthCodeIsAccepted) {
  // Only the end-of-block code, one bit long: incomplete, accepted; its other bit pattern is invalid.
  Bytes lit(257, 0);
  lit[256] = 1;
  Dynamic d(lit, Bytes(1, 0));
  BitWriter ok;
  stored(ok, false, random_bytes(512, 13));
  d.header(ok, true);
  ok.code(0, 1);
  expect_outcome(ok.finish(), 512, true, "EOB-only block after a full stored block");
  BitWriter bad;
  stored(bad, false, random_bytes(512, 13));
  d.header(bad, true);
  bad.code(1, 1);
  expect_outcome(bad.finish(), 512, false, "the unused one-bit pattern");
  // A single code of two bits is refused.
  lit[256] = 2;
  Dynamic d2(lit, Bytes(1, 0));
  BitWriter two;
  d2.header(two, true);
  two.bits(0, 16);
  expect_outcome(two.finish(), 512, false, "single two-bit literal/length code");
}

TEST(Inflate, SingleDistanceCodeFollowsZlibRules) {
  Bytes lit = full_lit_lengths();
  for (unsigned one_bit_symbol : {0u, 5u, 29u}) {
    Bytes dist(30, 0);
    dist[one_bit_symbol] = 1;
    Dynamic d(lit, dist);
    unsigned distance = one_bit_symbol == 0 ? 1 : one_bit_symbol == 5 ? 7 : 24577;
    // Enough literals for the distance, then a match with the valid code.
    BitWriter w;
    d.header(w, true);
    Bytes lits = random_bytes(24577, one_bit_symbol);
    for (uint8_t b : lits) d.symbol(w, b);
    d.match(w, 10, distance);
    d.symbol(w, 256);
    expect_outcome(w.finish(), lits.size() + 10, true, "single one-bit distance code");
    // The other one-bit pattern is an invalid distance code.
    BitWriter v;
    d.header(v, true);
    for (uint8_t b : lits) d.symbol(v, b);
    LengthCode l = length_code(10);
    d.symbol(v, l.symbol);
    v.code(1, 1);
    v.bits(0, 16);
    expect_outcome(v.finish(), lits.size() + 10, false, "unused distance pattern");
  }
  // A single distance code of two bits is refused.
  Bytes dist(30, 0);
  dist[3] = 2;
  Dynamic d(lit, dist);
  BitWriter w;
  d.header(w, true);
  d.symbol(w, 256);
  expect_outcome(w.finish(), 512, false, "single two-bit distance code");
  // No distance code at all is accepted while no match needs one.
  Dynamic none(lit, Bytes(30, 0));
  BitWriter lits_only;
  none.header(lits_only, true);
  for (int i = 0; i < 512; i++) none.symbol(lits_only, i & 0xff);
  none.symbol(lits_only, 256);
  expect_outcome(lits_only.finish(), 512, true, "no distance codes, literals only");
  BitWriter match;
  none.header(match, true);
  for (int i = 0; i < 100; i++) none.symbol(match, i & 0xff);
  none.symbol(match, 257);
  match.bits(0, 16);
  expect_outcome(match.finish(), 512, false, "no distance codes, a match");
}

TEST(Inflate, OversubscribedAndIncompleteDistanceCodesFail) {
  Bytes over = full_dist_lengths();
  over[2] = 4;
  Dynamic d1(full_lit_lengths(), over);
  BitWriter w1;
  d1.header(w1, true);
  w1.bits(0, 32);
  expect_outcome(w1.finish(), 512, false, "over-subscribed distance code");
  Bytes incomplete = full_dist_lengths();
  incomplete[29] = 0;
  Dynamic d2(full_lit_lengths(), incomplete);
  BitWriter w2;
  d2.header(w2, true);
  w2.bits(0, 32);
  expect_outcome(w2.finish(), 512, false, "incomplete distance code");
}

TEST(Inflate, FixedCodesForSymbolsDeflateDoesNotDefineFail) {
  for (unsigned symbol : {286u, 287u}) {
    BitWriter w;
    w.bits(1, 1).bits(1, 2);
    fixed_literals(w, {1, 2, 3});
    fixed_symbol(w, symbol);
    w.bits(0, 16);
    expect_outcome(w.finish(), 512, false, "literal/length code 286/287");
  }
  for (unsigned symbol : {30u, 31u}) {
    BitWriter w;
    w.bits(1, 1).bits(1, 2);
    fixed_literals(w, {1, 2, 3});
    fixed_symbol(w, 257);
    w.code(symbol, 5);
    w.bits(0, 16);
    expect_outcome(w.finish(), 512, false, "distance code 30/31");
  }
}

TEST(Inflate, LengthCode284WithAllExtraBitsMeans258) {
  // 227 + 31 = 258: RFC 1951 does not use it, zlib accepts it.
  BitWriter w;
  w.bits(1, 1).bits(1, 2);
  fixed_literals(w, {7});
  fixed_symbol(w, 284);
  w.bits(31, 5);
  w.code(0, 5);
  fixed_symbol(w, 256);
  expect_outcome(w.finish(), 259, true, "code 284 + 31");
}

// ---- what happens after the output is full ---------------------------------------------------------

BitWriter full_fixed_block(bool final) {
  BitWriter w;
  w.bits(final, 1).bits(1, 2);
  fixed_literals(w, random_bytes(512, 14));
  return w;
}

TEST(Inflate, AfterTheOutputIsFullZlibStillDecodesUpToTheNextByte) {
  {
    BitWriter w = full_fixed_block(false);
    expect_outcome(w.finish(), 512, true, "full, input ends");
  }
  {
    BitWriter w = full_fixed_block(false);
    fixed_symbol(w, 256);
    w.bits(0, 1).bits(3, 2);
    expect_outcome(w.finish(), 512, false, "full, end of block, block type 3");
  }
  {
    BitWriter w = full_fixed_block(false);
    fixed_symbol(w, 256);
    stored(w, false, {}, 0x40);
    expect_outcome(w.finish(), 512, false, "full, end of block, bad empty stored block");
  }
  {
    BitWriter w = full_fixed_block(false);
    fixed_symbol(w, 256);
    stored(w, false, {});
    w.bits(0, 1).bits(2, 2).bits(31, 5).bits(0, 5).bits(0, 4);
    expect_outcome(w.finish(), 512, false, "full, empty stored block, too many codes");
  }
  {
    BitWriter w = full_fixed_block(false);
    fixed_symbol(w, 286);
    w.bits(0, 16);
    expect_outcome(w.finish(), 512, false, "full, invalid literal/length code");
  }
  {
    BitWriter w = full_fixed_block(false);
    fixed_symbol(w, 257);
    w.code(31, 5);
    expect_outcome(w.finish(), 512, false, "full, invalid distance code");
  }
  {
    BitWriter w = full_fixed_block(false);
    fixed_match(w, 3, 32768);
    w.bits(0, 16);
    expect_outcome(w.finish(), 512, true, "full, a match too far back is never checked");
  }
  {
    BitWriter w = full_fixed_block(false);
    fixed_symbol(w, 257);
    w.code(29, 5);  // 13 extra bits that never come
    expect_outcome(w.finish(), 512, true, "full, input ends in the distance's extra bits");
  }
  {
    BitWriter w = full_fixed_block(false);
    fixed_symbol(w, 'a');
    w.bits(3, 2);
    expect_outcome(w.finish(), 512, true, "full, the next literal does not fit");
  }
  {
    BitWriter w = full_fixed_block(true);
    fixed_symbol(w, 256);
    w.bits(0, 1).bits(3, 2).bits(0, 16);
    expect_outcome(w.finish(), 512, true, "full, final block ends: what follows is not read");
  }
}

TEST(Inflate, MatchCutByTheEndOfTheOutputSucceeds) {
  BitWriter w;
  w.bits(1, 1).bits(1, 2);
  fixed_literals(w, random_bytes(500, 15));
  fixed_match(w, 100, 500);
  w.bits(0, 1).bits(3, 2).bits(0, 16);  // garbage: never reached, the match did not fit
  expect_outcome(w.finish(), 512, true, "match of 100 with 12 bytes of room");
}

// ---- differential: mutated streams ------------------------------------------------------------------

TEST(Inflate, MutatedStreamsAgreeWithZlib) {
  std::mt19937 rng(20240611);
  std::vector<std::pair<Bytes, size_t>> bases;
  const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
  for (int strategy : strategies)
    for (int level : {0, 1, 6, 9})
      for (size_t size : {100u, 700u, 3000u}) {
        Bytes data = compressible_bytes(size, static_cast<uint32_t>(size * 3 + level + strategy));
        bases.emplace_back(deflate_raw(data, level, -12, 8, strategy), size);
      }
  int agreements_ok = 0;
  for (int iteration = 0; iteration < 30000; iteration++) {
    const auto& [base, size] = bases[rng() % bases.size()];
    Bytes in = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !in.empty(); e++) {
      size_t at = rng() % in.size();
      switch (rng() % 6) {
        case 0:
        case 1:
          in[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 2:
          in[at] = static_cast<uint8_t>(rng());
          break;
        case 3:
          in.resize(at);
          break;
        case 4:
          in.insert(in.begin() + static_cast<long>(at), static_cast<uint8_t>(rng()));
          break;
        default:
          in.erase(in.begin() + static_cast<long>(at));
          break;
      }
    }
    size_t out_size = size;
    switch (rng() % 4) {
      case 1:
        out_size = size - rng() % size;
        break;
      case 2:
        out_size = size + rng() % 16;
        break;
      default:
        break;
    }
    if (agree(in, out_size, "mutation " + std::to_string(iteration))) agreements_ok++;
    if (HasFailure()) break;
  }
  std::printf("[ info     ] %d of 30000 mutated streams decoded\n", agreements_ok);
}

TEST(Inflate, RandomBytesAgreeWithZlib) {
  std::mt19937 rng(7);
  for (int iteration = 0; iteration < 20000; iteration++) {
    Bytes in(1 + rng() % 64);
    for (auto& b : in) b = static_cast<uint8_t>(rng());
    // Mostly fixed or stored blocks, which random bytes rarely make.
    if (iteration % 3 == 0) in[0] = static_cast<uint8_t>((in[0] & ~6) | 2);
    agree(in, 1 + rng() % 40);
    if (HasFailure()) break;
  }
}

// ---- speed (printed, not asserted) ------------------------------------------------------------------

TEST(Inflate, SpeedIsPrinted) {
  constexpr size_t kCluster = 65536;
  Bytes data = compressible_bytes(64 * kCluster, 16);
  std::vector<Bytes> clusters;
  for (size_t at = 0; at < data.size(); at += kCluster)
    clusters.push_back(
        deflate_raw(Bytes(data.begin() + at, data.begin() + at + kCluster), 6, -12, 8, Z_DEFAULT_STRATEGY));
  Bytes out(kCluster);
  auto time = [&](auto&& decode) {
    auto start = std::chrono::steady_clock::now();
    size_t total = 0;
    for (int round = 0; round < 4; round++)
      for (const Bytes& c : clusters) {
        decode(c);
        total += kCluster;
      }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return total / s / 1e6;
  };
  double ours_mbs = time([&](const Bytes& c) {
    if (inflate_cluster(ByteSpan(c.data(), c.size()), out.data(), kCluster).is_error()) std::abort();
  });
  double zlib_mbs = time([&](const Bytes& c) {
    z_stream s{};
    s.next_in = const_cast<Bytef*>(c.data());
    s.avail_in = static_cast<uInt>(c.size());
    s.next_out = out.data();
    s.avail_out = kCluster;
    inflateInit2(&s, -12);
    inflate(&s, Z_FINISH);
    inflateEnd(&s);
  });
  std::printf("[ info     ] 64 KiB clusters, level 6: inflate_cluster %.0f MB/s, zlib %.0f MB/s\n", ours_mbs,
              zlib_mbs);
}

}  // namespace
}  // namespace instar::compress
