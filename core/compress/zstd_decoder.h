// zstd_decoder.h: Zstandard (RFC 8878) frames into one qcow2 cluster, by qemu's qcow2_zstd_decompress rule.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"
#include "core/base/result.h"

namespace instar {

inline constexpr size_t kZstdBlockSizeMax = 128 * 1024;
// Window limit of a fresh ZSTD_DCtx (ZSTD_WINDOWLOG_LIMIT_DEFAULT), enforced where libzstd enforces it.
inline constexpr uint64_t kZstdWindowSizeLimit = uint64_t{1} << 27;
// Slack after the literals so that copies may move 16 bytes at a time.
inline constexpr size_t kZstdLiteralSlack = 32;

// One state of a literal length, match length or offset FSE table, with its code's value.
struct ZstdSequenceState {
  uint32_t base;        // baseline of the symbol's code
  uint8_t extra_bits;   // bits added to the baseline
  uint8_t state_bits;   // bits read for the next state
  uint16_t next_state;  // next state before those bits are added
};

// Where libzstd departs from what instar can reproduce; set by a call so that a differential test can tell
// an expected disagreement (docs/formats/zstd.md, "Known differences") from a bug.
enum ZstdQuirk : uint32_t {
  kZstdQuirkLegacyFrame = 1,    // a zstd v0.x frame magic: libzstd decodes it, instar refuses
  kZstdQuirkHuffmanEnd = 2,     // a Huffman stream not used up exactly, which libzstd may accept
  kZstdQuirkOversizeBlock = 4,  // a block beyond what libzstd's literal-buffer placement allows
  kZstdQuirkFarOffset = 8,      // an offset beyond the window while libzstd streams through its ring buffer
};

// What the last call met, so that tests can show which parts of the format a case exercises.
enum ZstdSeen : uint32_t {
  kZstdSeenRawBlock = 1u << 0,
  kZstdSeenRleBlock = 1u << 1,
  kZstdSeenCompressedBlock = 1u << 2,
  kZstdSeenRawLiterals = 1u << 3,
  kZstdSeenRleLiterals = 1u << 4,
  kZstdSeenHuffmanOneStream = 1u << 5,
  kZstdSeenHuffmanFourStreams = 1u << 6,
  kZstdSeenTreelessLiterals = 1u << 7,
  kZstdSeenFseWeights = 1u << 8,
  kZstdSeenDirectWeights = 1u << 9,
  kZstdSeenPredefinedTable = 1u << 10,
  kZstdSeenRleTable = 1u << 11,
  kZstdSeenFseTable = 1u << 12,
  kZstdSeenRepeatTable = 1u << 13,
  kZstdSeenRepeatOffset = 1u << 14,
  kZstdSeenSkippableFrame = 1u << 15,
  kZstdSeenChecksum = 1u << 16,
  kZstdSeenStreamingFrame = 1u << 17,
};

// Working memory for zstd_decompress_cluster: about 150 KiB, no other allocation. Plain data; a caller
// keeps one per thread and reuses it (nothing carries over between calls).
struct ZstdWorkspace {
  ZstdSequenceState literal_lengths[1 << 9];
  ZstdSequenceState offsets[1 << 8];
  ZstdSequenceState match_lengths[1 << 9];
  uint16_t huffman[1 << 12];  // symbol | bits << 8, indexed by the next table_log bits
  uint8_t literals[kZstdBlockSizeMax + kZstdLiteralSlack];

  // Per frame.
  uint32_t repeat_offsets[3];
  uint8_t literal_lengths_log, offsets_log, match_lengths_log, huffman_log;
  bool have_huffman;          // a previous block of the frame described a Huffman tree
  bool have_sequence_tables;  // a previous block of the frame decoded sequences
  uint32_t quirks;            // ZstdQuirk bits met by the last call
  uint32_t seen;              // ZstdSeen bits of the last call
};

// Decodes zstd frames (skippable frames included) back to back from `in` until exactly `out_size` bytes
// are written to `out`; the last frame must end exactly there (its checksum checked), and what follows it
// in `in` is ignored. Any other outcome is an error: this is what qemu's qcow2_zstd_decompress accepts.
Result<void> zstd_decompress_cluster(ByteSpan in, uint8_t* out, size_t out_size, ZstdWorkspace& ws);

}  // namespace instar
