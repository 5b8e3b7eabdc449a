// zstd_oracle.h: libzstd called exactly as qemu's qcow2_zstd_decompress calls it (block/qcow2-threads.c),
// the reference for the zstd decoder's tests and fuzz target. Host only.
#pragma once

#include <zstd.h>

#include <cstddef>
#include <cstdint>

namespace instar::testing {

// True if qemu would accept `src` as a cluster of exactly `dest_size` bytes; `dest` gets what it wrote.
inline bool qemu_zstd_decompress(const uint8_t* src, size_t src_size, uint8_t* dest, size_t dest_size) {
  ZSTD_DStream* dctx = ZSTD_createDStream();
  if (dctx == nullptr) return false;
  ZSTD_inBuffer input = {src, src_size, 0};
  ZSTD_outBuffer output = {dest, dest_size, 0};
  size_t zstd_ret = 0;
  bool ok = true;
  while (output.pos < output.size) {
    size_t last_in_pos = input.pos;
    size_t last_out_pos = output.pos;
    zstd_ret = ZSTD_decompressStream(dctx, &output, &input);
    if (ZSTD_isError(zstd_ret)) {
      ok = false;
      break;
    }
    if (last_in_pos >= input.pos && last_out_pos >= output.pos) {
      ok = false;
      break;
    }
  }
  if (zstd_ret > 0) ok = false;
  ZSTD_freeDStream(dctx);
  return ok;
}

}  // namespace instar::testing
