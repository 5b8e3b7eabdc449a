// zstd_decoder.cc: frames and blocks, and qemu's rule for filling one cluster (docs/formats/zstd.md).
#include "core/compress/zstd_decoder.h"

#include "core/compress/zstd_internal.h"

namespace instar {

namespace {

using zstd::corrupt;
using zstd::load_le24;
using zstd::load_le32;

constexpr uint32_t kFrameMagic = 0xFD2FB528;
constexpr uint32_t kSkippableMagic = 0x184D2A50, kSkippableMask = 0xFFFFFFF0;

bool is_legacy_magic(uint32_t magic) {
  return magic == 0xFD2FB51E || (magic >= 0xFD2FB522 && magic <= 0xFD2FB527);
}

Error truncated() { return make_error(Errc::truncated, "zstd: frame truncated"); }

struct FrameHeader {
  size_t size;
  bool checksum;
  bool has_content_size;
  uint64_t content_size;
  uint64_t window;
};

Result<FrameHeader> parse_frame_header(ByteSpan in) {
  if (in.size < 5) return truncated();
  uint8_t fhd = in[4];
  unsigned fcs_code = fhd >> 6, dict_code = fhd & 3;
  bool single_segment = (fhd & 0x20) != 0;
  static constexpr uint8_t kDictIdSize[4] = {0, 1, 2, 4};
  static constexpr uint8_t kContentSizeSize[4] = {0, 2, 4, 8};
  size_t fcs_size = fcs_code == 0 && single_segment ? 1 : kContentSizeSize[fcs_code];
  FrameHeader h{};
  h.size = 5 + (single_segment ? 0 : 1) + kDictIdSize[dict_code] + fcs_size;
  if (in.size < h.size) return truncated();
  if ((fhd & 0x08) != 0) return corrupt("zstd: reserved frame header bit set");
  h.checksum = (fhd & 0x04) != 0;
  size_t at = 5;
  if (!single_segment) {
    unsigned exponent = in[at] >> 3, mantissa = in[at] & 7;
    at++;
    unsigned log = 10 + exponent;
    if (log > 31) return make_error(Errc::too_large, "zstd: window too large");
    uint64_t base = uint64_t{1} << log;
    h.window = base + (base >> 3) * mantissa;
  }
  uint32_t dict_id = 0;
  for (unsigned i = 0; i < kDictIdSize[dict_code]; i++) dict_id |= uint32_t{in[at + i]} << (8 * i);
  at += kDictIdSize[dict_code];
  if (dict_id != 0) return make_error(Errc::unsupported, "zstd: frame needs a dictionary");
  h.has_content_size = fcs_size != 0;
  for (unsigned i = 0; i < fcs_size; i++) h.content_size |= uint64_t{in[at + i]} << (8 * i);
  if (fcs_size == 2) h.content_size += 256;
  if (single_segment) h.window = h.content_size;
  return h;
}

// The output a compressed block may write in one-pass mode (a frame whose content size is known), which
// in libzstd 1.5.4 depends on where the literals were put: beside the output, or after the block's first
// 128 KiB + 32 bytes of it (when the output has room), or split between the two.
size_t one_pass_block_limit(const zstd::Literals& lit, size_t block_size, size_t capacity, bool& split) {
  split = false;
  if (lit.type == 0 && lit.header_size + lit.count + 32 <= block_size) return capacity;  // read in place
  if (capacity > kZstdBlockSizeMax + 64 + lit.count) return kZstdBlockSizeMax + 32;
  if (lit.count > 64 * 1024) {
    split = true;
    return capacity < kZstdBlockSizeMax ? capacity : kZstdBlockSizeMax;
  }
  return capacity;
}

// One frame at in[0..]: its content goes to out[pos..]; returns the bytes of `in` it took.
Result<size_t> decode_frame(ByteSpan in, uint8_t* out, size_t out_size, size_t& pos, ZstdWorkspace& ws) {
  INSTAR_TRY_ASSIGN(h, parse_frame_header(in));
  // libzstd decodes a frame of known content size that fits the output in one pass; otherwise it streams
  // through a window-sized buffer, and then the window limit and the block size limit apply. A known size
  // that does not fit, or a frame that is not all there, fails either way.
  bool streaming = !h.has_content_size;
  size_t block_max = kZstdBlockSizeMax;
  if (streaming) {
    ws.seen |= kZstdSeenStreamingFrame;
    if (h.window > kZstdWindowSizeLimit) return make_error(Errc::too_large, "zstd: window too large");
    if (h.window < block_max) block_max = size_t(h.window);
  } else if (h.content_size > out_size - pos) {
    return make_error(Errc::no_space, "zstd: frame content exceeds the cluster");
  }
  ws.repeat_offsets[0] = 1;
  ws.repeat_offsets[1] = 4;
  ws.repeat_offsets[2] = 8;
  ws.have_huffman = false;
  ws.have_sequence_tables = false;

  const size_t frame_start = pos;
  size_t at = h.size;
  for (;;) {
    if (in.size - at < 3) return truncated();
    uint32_t bh = load_le24(in.data + at);
    at += 3;
    bool last = (bh & 1) != 0;
    unsigned type = (bh >> 1) & 3;
    size_t size = bh >> 3;
    size_t capacity = out_size - pos;
    if (type == 3) return corrupt("zstd: reserved block type");
    if (streaming && size > block_max) return corrupt("zstd: block larger than the block maximum");
    ws.seen |= 1u << type;  // kZstdSeenRawBlock, kZstdSeenRleBlock, kZstdSeenCompressedBlock
    if (type == 0) {        // raw
      if (in.size - at < size) return truncated();
      if (size > capacity) return make_error(Errc::no_space, "zstd: frame content exceeds the cluster");
      if (size > 0) __builtin_memcpy(out + pos, in.data + at, size);
      at += size;
      pos += size;
    } else if (type == 1) {  // RLE
      if (in.size - at < 1) return truncated();
      if (size > capacity) return make_error(Errc::no_space, "zstd: frame content exceeds the cluster");
      if (size > 0) __builtin_memset(out + pos, in[at], size);
      at += 1;
      pos += size;
    } else {  // compressed
      if (size > kZstdBlockSizeMax) return corrupt("zstd: block larger than the block maximum");
      if (in.size - at < size) return truncated();
      ByteSpan block(in.data + at, size);
      size_t literal_limit =
          streaming ? block_max : (capacity < kZstdBlockSizeMax ? capacity : kZstdBlockSizeMax);
      INSTAR_TRY_ASSIGN(lit, zstd::decode_literals(block, literal_limit, ws));
      bool split = false;
      size_t limit = streaming ? (capacity < block_max ? capacity : block_max)
                               : one_pass_block_limit(lit, size, capacity, split);
      zstd::BlockOutput o{out, out_size, pos, frame_start, pos + limit, h.window, streaming};
      auto written = zstd::decode_sequences(block.subspan(lit.header_and_payload), lit, o, ws);
      if (written.is_error()) {
        if (split && capacity > limit && written.error().code == Errc::no_space)
          ws.quirks |= kZstdQuirkOversizeBlock;
        return written.error();
      }
      at += size;
      pos += written.value();
    }
    if (last) break;
  }
  if (h.checksum) {
    if (in.size - at < 4) return truncated();
    ws.seen |= kZstdSeenChecksum;
    uint32_t expected = load_le32(in.data + at);
    at += 4;
    if (uint32_t(zstd::xxh64(out + frame_start, pos - frame_start)) != expected)
      return corrupt("zstd: content checksum mismatch");
  }
  if (h.has_content_size && pos - frame_start != h.content_size)
    return corrupt("zstd: frame content size mismatch");
  return at;
}

}  // namespace

Result<void> zstd_decompress_cluster(ByteSpan in, uint8_t* out, size_t out_size, ZstdWorkspace& ws) {
  ws.quirks = 0;
  ws.seen = 0;
  size_t ip = 0, op = 0;
  while (op < out_size) {
    ByteSpan rest = in.subspan(ip);
    if (rest.size < 4) return truncated();
    uint32_t magic = load_le32(rest.data);
    if ((magic & kSkippableMask) == kSkippableMagic) {
      if (rest.size < 8) return truncated();
      uint32_t size = load_le32(rest.data + 4);
      if (size > rest.size - 8) return truncated();
      ip += 8 + size_t{size};
      ws.seen |= kZstdSeenSkippableFrame;
      continue;
    }
    if (magic != kFrameMagic) {
      if (is_legacy_magic(magic)) {
        ws.quirks |= kZstdQuirkLegacyFrame;
        return make_error(Errc::unsupported, "zstd: legacy (v0.x) frames are not supported");
      }
      return corrupt("zstd: not a zstd frame");
    }
    INSTAR_TRY_ASSIGN(used, decode_frame(rest, out, out_size, op, ws));
    ip += used;
  }
  return ok();
}

}  // namespace instar
