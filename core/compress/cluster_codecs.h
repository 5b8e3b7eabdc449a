// cluster_codecs.h: one compressed qcow2 cluster decompressed by Debian's zlib and libzstd, accepting
// exactly what qemu's qcow2_zlib_decompress and qcow2_zstd_decompress accept.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"
#include "core/base/result.h"

namespace instar::compress {

// Raw DEFLATE (window bits -12), one inflate(Z_FINISH) into the whole of `out`: succeeds when the output
// is filled completely (input left over after that point is ignored; a stream that ends early or any
// error zlib reports is a failure). `out` is scratch on failure.
Result<void> inflate_cluster(ByteSpan in, uint8_t* out, size_t out_size);

// Zstandard frames (skippable ones included) streamed from `in` until `out_size` bytes are written; the
// frame in progress must then be complete and flushed. Input after it is ignored. A call that makes no
// progress, or any error libzstd reports, is a failure. `out` is scratch on failure.
Result<void> zstd_decompress_cluster(ByteSpan in, uint8_t* out, size_t out_size);

}  // namespace instar::compress
