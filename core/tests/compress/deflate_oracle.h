// deflate_oracle.h: zlib called exactly as qemu's qcow2_zlib_decompress calls it (block/qcow2-threads.c),
// the reference for the DEFLATE decoders' tests and fuzz target, and raw DEFLATE streams as qemu writes
// them. Host only.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace instar::testing {

// True if qemu would accept `src` as a cluster of exactly `dest_size` bytes: windowBits -12, one
// inflate(Z_FINISH) into the whole cluster, success iff it ends or runs out of input with the output
// full. `dest` gets what zlib wrote.
inline bool qemu_zlib_decompress(const uint8_t* src, size_t src_size, uint8_t* dest, size_t dest_size) {
  z_stream stream{};
  stream.next_in = const_cast<Bytef*>(src);
  stream.avail_in = static_cast<uInt>(src_size);
  stream.next_out = dest;
  stream.avail_out = static_cast<uInt>(dest_size);
  if (inflateInit2(&stream, -12) != Z_OK) return false;
  int ret = inflate(&stream, Z_FINISH);
  bool ok = (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && stream.avail_out == 0;
  inflateEnd(&stream);
  return ok;
}

// `data` as a raw DEFLATE stream; by default as qemu's qcow2_zlib_compress writes it (the default level,
// windowBits -12, memLevel 9). Empty if zlib fails.
inline std::vector<uint8_t> deflate_raw(const std::vector<uint8_t>& data, int level = Z_DEFAULT_COMPRESSION,
                                        int strategy = Z_DEFAULT_STRATEGY, int window_bits = -12) {
  z_stream s{};
  if (deflateInit2(&s, level, Z_DEFLATED, window_bits, 9, strategy) != Z_OK) return {};
  std::vector<uint8_t> out(deflateBound(&s, data.size()));
  s.next_in = const_cast<Bytef*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  int ret = deflate(&s, Z_FINISH);
  out.resize(ret == Z_STREAM_END ? s.total_out : 0);
  deflateEnd(&s);
  return out;
}

}  // namespace instar::testing
