// deflate_decoder_test.cc: the fast decoder answers for what zlib's writer produces, and when it answers
// (true), zlib called as qemu calls it accepts the stream with the same bytes; what zlib treats in its
// own way (lenient or failing) gets no answer.
#include "core/compress/deflate_decoder.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "core/tests/compress/deflate_oracle.h"

namespace instar::compress {
namespace {

using Bytes = std::vector<uint8_t>;
using instar::testing::deflate_raw;

Bytes disk_like(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (size_t i = 0; i < n; i++) {
    uint32_t r = rng();
    b[i] = (i / 4096) % 3 == 0 ? 0 : (i / 512) % 2 ? static_cast<uint8_t>(r) : static_cast<uint8_t>("instar\n"[i % 7]);
  }
  return b;
}

bool zlib_accepts(const Bytes& in, Bytes& out) {
  return instar::testing::qemu_zlib_decompress(in.data(), in.size(), out.data(), out.size());
}

DeflateTables& tables() {
  static auto* t = new DeflateTables;
  return *t;
}

bool fast(const Bytes& in, Bytes& out) {
  return decode_deflate_exact(tables(), ByteSpan(in.data(), in.size()), out.data(), out.size());
}

// Bits least significant first, as DEFLATE packs them; Huffman codes go most significant bit first.
struct BitWriter {
  Bytes bytes;
  unsigned used = 0;  // bits used in the last byte
  void put(uint32_t value, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
      if (used == 0) bytes.push_back(0);
      bytes.back() |= static_cast<uint8_t>(((value >> i) & 1) << used);
      used = (used + 1) % 8;
    }
  }
  void code(uint32_t code, unsigned n) {
    for (unsigned i = n; i-- > 0;) put((code >> i) & 1, 1);
  }
  // RFC 1951 3.2.6: the fixed literal/length code.
  void fixed_symbol(unsigned s) {
    if (s < 144) code(0x30 + s, 8);
    else if (s < 256) code(0x190 + s - 144, 9);
    else if (s < 280) code(s - 256, 7);
    else code(0xC0 + s - 280, 8);
  }
};

TEST(DeflateDecoder, AnswersForEveryLevelAndStrategyOfZlibsWriter) {
  for (size_t size : {512u, 4096u, 65536u, 2u << 20}) {
    Bytes data = disk_like(size, static_cast<uint32_t>(size));
    for (int strategy : {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED}) {
      for (int level = 0; level <= 9; level++) {
        if (size > 65536 && (strategy != Z_DEFAULT_STRATEGY || level % 3 != 0)) continue;  // time
        Bytes in = deflate_raw(data, level, strategy), out(size, 0xEE);
        in.resize((in.size() + 511) / 512 * 512, 0x5A);  // qcow2 rounds up to a sector; the rest is junk
        ASSERT_TRUE(fast(in, out)) << "size " << size << " strategy " << strategy << " level " << level;
        ASSERT_EQ(out, data);
      }
    }
  }
}

TEST(DeflateDecoder, AnswersForAWindowLargerThanQemus) {
  // zlib decodes distances up to what was written, whatever the window bits: -15 streams decode alike.
  Bytes data = disk_like(65536, 3), out(65536);
  Bytes in = deflate_raw(data, 9, Z_DEFAULT_STRATEGY, -15);
  ASSERT_TRUE(fast(in, out));
  EXPECT_EQ(out, data);
  Bytes theirs(65536);
  EXPECT_TRUE(zlib_accepts(in, theirs));
}

TEST(DeflateDecoder, NoAnswerWhereZlibStopsAtAFullCluster) {
  // Longer than the cluster: zlib stops once the output is full and succeeds; so does a stream whose
  // end lies past the input. Shorter: zlib fails. None of them is answered here.
  Bytes data = disk_like(65536 + 1000, 4), out(65536), theirs(65536);
  Bytes longer = deflate_raw(data, 6, Z_DEFAULT_STRATEGY);
  EXPECT_FALSE(fast(longer, out));
  EXPECT_TRUE(zlib_accepts(longer, theirs));
  Bytes shorter = deflate_raw(Bytes(data.begin(), data.begin() + 65535), 6, Z_DEFAULT_STRATEGY);
  EXPECT_FALSE(fast(shorter, out));
  EXPECT_FALSE(zlib_accepts(shorter, theirs));
  Bytes exact = deflate_raw(Bytes(data.begin(), data.begin() + 65536), 6, Z_DEFAULT_STRATEGY);
  Bytes cut(exact.begin(), exact.end() - 1);
  EXPECT_FALSE(fast(cut, out));
}

TEST(DeflateDecoder, NoAnswerForSymbolsZlibRefuses) {
  // A fixed block: a literal, then literal/length symbol 286 read as a length of 258 at distance 1 (as a
  // lenient decoder might), then the end: zlib refuses symbol 286.
  Bytes out(259), theirs(259);
  BitWriter w286;
  w286.put(1, 1), w286.put(1, 2), w286.fixed_symbol('a'), w286.fixed_symbol(286), w286.code(0, 5);
  w286.fixed_symbol(256);
  EXPECT_FALSE(fast(w286.bytes, out));
  EXPECT_FALSE(zlib_accepts(w286.bytes, theirs));
  BitWriter w285;  // the same with symbol 285, a real length of 258: answered
  w285.put(1, 1), w285.put(1, 2), w285.fixed_symbol('a'), w285.fixed_symbol(285), w285.code(0, 5);
  w285.fixed_symbol(256);
  ASSERT_TRUE(fast(w285.bytes, out));
  EXPECT_EQ(out, Bytes(259, 'a'));
  EXPECT_TRUE(zlib_accepts(w285.bytes, theirs));
  out.resize(8), theirs.resize(8);
  // Eight literals, then a match of length 3 at distance symbol 30 (refused by zlib).
  BitWriter w30;
  w30.put(1, 1), w30.put(1, 2);
  for (int i = 0; i < 5; i++) w30.fixed_symbol('x');
  w30.fixed_symbol(257), w30.code(30, 5), w30.put(0, 13), w30.fixed_symbol(256);
  EXPECT_FALSE(fast(w30.bytes, out));
  EXPECT_FALSE(zlib_accepts(w30.bytes, theirs));
  // The same with distance 6 (symbol 4, one extra bit 1) after five literals: too far back.
  BitWriter far;
  far.put(1, 1), far.put(1, 2);
  for (int i = 0; i < 5; i++) far.fixed_symbol('x');
  far.fixed_symbol(257), far.code(4, 5), far.put(1, 1), far.fixed_symbol(256);
  EXPECT_FALSE(fast(far.bytes, out));
  EXPECT_FALSE(zlib_accepts(far.bytes, theirs));
  // And with distance 5: a valid stream of eight bytes, answered.
  BitWriter good;
  good.put(1, 1), good.put(1, 2);
  for (char c : {'a', 'b', 'c', 'd', 'e'}) good.fixed_symbol(static_cast<uint8_t>(c));
  good.fixed_symbol(257), good.code(4, 5), good.put(0, 1), good.fixed_symbol(256);
  ASSERT_TRUE(fast(good.bytes, out));
  EXPECT_EQ(out, (Bytes{'a', 'b', 'c', 'd', 'e', 'a', 'b', 'c'}));
  EXPECT_TRUE(zlib_accepts(good.bytes, theirs));
  EXPECT_EQ(theirs, out);
}

TEST(DeflateDecoder, NoAnswerForHeadersZlibRefusesOrTreatsItsOwnWay) {
  // A dynamic block with codes for 'a' and the end of block only, four 'a's: valid with 286
  // literal/length code lengths (HLIT 29), refused by zlib with 287 (HLIT 30) though the extra length
  // is zero.
  Bytes out(4), theirs(4);
  auto dynamic = [](unsigned hlit) {
    BitWriter w;
    w.put(1, 1), w.put(2, 2), w.put(hlit, 5), w.put(1, 5), w.put(14, 4);  // two distance codes, 18 precode lengths
    // Precode: symbol 18 (a run of zeros) one bit, symbols 0 and 1 two bits; in the header's order.
    for (unsigned len : {0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}) w.put(len, 3);
    auto zeros = [&w](unsigned n) {  // runs of 11..138 zeros: precode 18 ('0'), 7 extra bits
      while (n > 0) {
        unsigned run = n > 138 ? 138 : n;
        if (n - run > 0 && n - run < 11) run = n - 11;
        w.code(0, 1), w.put(run - 11, 7);
        n -= run;
      }
    };
    zeros('a'), w.code(3, 2);           // 'a': length 1 (precode 1 is '11')
    zeros(256 - 'a' - 1), w.code(3, 2);  // 256: length 1
    zeros(hlit + 257 - 257);             // 257 .. the last declared code: unused
    w.code(3, 2), w.code(3, 2);          // both distance codes: length 1
    for (int i = 0; i < 4; i++) w.code(0, 1);
    w.code(1, 1);
    return w.bytes;
  };
  ASSERT_TRUE(fast(dynamic(29), out));
  EXPECT_EQ(out, Bytes(4, 'a'));
  EXPECT_TRUE(zlib_accepts(dynamic(29), theirs));
  EXPECT_FALSE(fast(dynamic(30), out));
  EXPECT_FALSE(zlib_accepts(dynamic(30), theirs));
  // A stored block whose NLEN is not LEN's complement, and the reserved block type.
  Bytes stored = {0x01, 0x04, 0x00, 0xFB, 0xFE, 'a', 'b', 'c', 'd'};
  EXPECT_FALSE(fast(stored, out));
  EXPECT_FALSE(zlib_accepts(stored, theirs));
  stored[3] = 0xFB, stored[4] = 0xFF;
  ASSERT_TRUE(fast(stored, out));
  EXPECT_EQ(out, (Bytes{'a', 'b', 'c', 'd'}));
  EXPECT_FALSE(fast(Bytes{0x07, 0, 0, 0}, out));
  EXPECT_FALSE(fast(Bytes{}, out));
}

TEST(DeflateDecoder, AnAnswerAlwaysAgreesWithZlibOnDamagedStreams) {
  // Bit flips and truncations of real streams: whenever the decoder answers, zlib accepts the stream
  // and wrote the same bytes. (fuzz-targets/inflate_fuzzer.cc checks the same over any input.)
  std::mt19937 rng(7);
  int answered = 0, refused_by_zlib = 0;
  for (int round = 0; round < 4000; round++) {
    size_t size = round % 2 ? 4096 : 1024;
    Bytes data = disk_like(size, static_cast<uint32_t>(round % 17));
    Bytes in = deflate_raw(data, static_cast<int>(round % 10), round % 5 == 0 ? Z_FIXED : Z_DEFAULT_STRATEGY);
    int flips = static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; i++) in[rng() % in.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    if (rng() % 8 == 0) in.resize(rng() % (in.size() + 1));
    Bytes ours(size, 0x11), theirs(size, 0x22);
    bool zlib_ok = zlib_accepts(in, theirs);
    refused_by_zlib += !zlib_ok;
    if (!fast(in, ours)) continue;
    answered++;
    ASSERT_TRUE(zlib_ok) << "round " << round;
    ASSERT_EQ(ours, theirs) << "round " << round;
  }
  EXPECT_GT(answered, 1000);
  EXPECT_GT(refused_by_zlib, 500);
}

}  // namespace
}  // namespace instar::compress
