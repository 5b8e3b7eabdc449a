// deflate_decoder.h: a fast raw DEFLATE (RFC 1951) decoder for whole qcow2 clusters that answers only
// when it is sure zlib would give the same answer; everything else is left to zlib.
//
// qemu decompresses a zlib cluster with one inflate(Z_FINISH) into the whole cluster
// (cluster_codecs.h). Debian's zlib does that at about half the speed of a decoder with a 64-bit bit
// buffer, wide match copies and one table look-up per symbol; this is such a decoder, but it claims
// success only for streams zlib accepts in exactly the same way: every block header, code and symbol
// valid by zlib's rules, every Huffman code complete, every distance within what was written, and the
// final block ending exactly when the cluster is full, inside the input. Anything else (an error, an
// incomplete code zlib might still accept, a stream that overflows or underfills the cluster) returns
// false, and the caller asks zlib, whose answer is then the answer. Freestanding: runs in the guest.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"

namespace instar::compress {

// Decode tables, rebuilt for every block and kept between clusters (about 32 KiB: keep it off small
// stacks). Sizes: an 11-bit primary table for literals/lengths with 4-bit subtables for longer codes
// (a complete code of at most 286 symbols has at most 143 of them), an 8-bit primary table for
// distances with 7-bit subtables (at most 15), and a direct table for the 7-bit code-length code.
struct DeflateTables {
  static constexpr size_t kLitlenEntries = (1u << 11) + 143 * (1u << 4);
  static constexpr size_t kDistEntries = (1u << 8) + 15 * (1u << 7);
  uint32_t litlen[kLitlenEntries];
  uint32_t dist[kDistEntries];
  uint32_t precode[1u << 7];
  uint8_t lens[288 + 32 + 138];  // literal/length then distance code lengths, with room for a repeat
};

// True iff `in` begins with a raw DEFLATE stream whose final block ends exactly when `out_size` bytes
// are written, which zlib's inflate (windowBits -12, Z_FINISH, the whole of `out`) decodes to the same
// bytes with Z_STREAM_END; `out` then holds them. False: no answer (`out` is scratch), ask zlib.
bool decode_deflate_exact(DeflateTables& tables, ByteSpan in, uint8_t* out, size_t out_size);

}  // namespace instar::compress
