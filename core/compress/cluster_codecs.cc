// cluster_codecs.cc: the bridge from core/ to Debian's zlib and libzstd, linked into the guest (whose
// runtime supplies malloc, calloc, free and the mem* functions they call) and into the host.
// The only core source that includes a C library's headers, so it is left out of the freestanding check
// (cmake/CheckFreestanding.cmake); see docs/architecture.md "Compression".
#include "core/compress/cluster_codecs.h"

#include <zlib.h>
#include <zstd.h>

#include "core/compress/deflate_decoder.h"

namespace instar::compress {

Result<void> inflate_cluster(ByteSpan in, uint8_t* out, size_t out_size) {
  // The fast decoder answers for the streams it is sure of (deflate_decoder.h); zlib decides the rest.
  // One set of tables for the process, as for zstd below: core runs one operation at a time.
  static DeflateTables tables;
  if (decode_deflate_exact(tables, in, out, out_size)) return ok();
  // zlib counts in uInt; a cluster is at most 2 MiB and its compressed form one cluster plus a sector.
  if (in.size > UINT32_MAX || out_size > UINT32_MAX) return make_error(Errc::io, "cluster too large");
  z_stream stream{};
  stream.next_in = const_cast<Bytef*>(in.data);
  stream.avail_in = static_cast<uInt>(in.size);
  stream.next_out = out;
  stream.avail_out = static_cast<uInt>(out_size);
  if (inflateInit2(&stream, -12) != Z_OK) return make_error(Errc::io, "inflateInit2 failed");
  int ret = inflate(&stream, Z_FINISH);
  // Z_BUF_ERROR with a full output is what an input padded up to a sector boundary gives.
  bool filled = (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && stream.avail_out == 0;
  inflateEnd(&stream);
  if (!filled) return make_error(Errc::io, "invalid deflate data");
  return ok();
}

namespace {

// One decompression context for the process, reset before every cluster: a reset context decodes exactly
// as a new one does (no parameter is ever set), and creating one per cluster as qemu does costs a CPUID,
// which is a VM exit in the guest. core runs one operation at a time.
ZSTD_DCtx* zstd_context() {
  static ZSTD_DCtx* context = nullptr;
  if (context == nullptr) context = ZSTD_createDCtx();
  return context;
}

}  // namespace

Result<void> zstd_decompress_cluster(ByteSpan in, uint8_t* out, size_t out_size) {
  ZSTD_DCtx* context = zstd_context();
  if (context == nullptr) return make_error(Errc::io, "ZSTD_createDCtx failed");
  if (ZSTD_isError(ZSTD_DCtx_reset(context, ZSTD_reset_session_only))) return make_error(Errc::io, "reset");
  ZSTD_inBuffer input{in.data, in.size, 0};
  ZSTD_outBuffer output{out, out_size, 0};
  size_t last = 0;  // 0 once a frame is decoded and flushed
  while (output.pos < output.size) {
    size_t in_before = input.pos, out_before = output.pos;
    last = ZSTD_decompressStream(context, &output, &input);
    if (ZSTD_isError(last)) return make_error(Errc::io, "invalid zstd data");
    // A call that consumed and produced nothing would be called forever.
    if (input.pos <= in_before && output.pos <= out_before) return make_error(Errc::io, "zstd made no progress");
  }
  if (last != 0) return make_error(Errc::io, "zstd frame continues past the cluster");
  return ok();
}

}  // namespace instar::compress
