// inflate.h: raw DEFLATE (RFC 1951) decoding of a qcow2 zlib-compressed cluster, with qemu's rule.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"
#include "core/base/result.h"

namespace instar::compress {

// Decompresses the raw DEFLATE stream `in` into exactly `out_size` bytes at `out`, accepting what qemu's
// qcow2_zlib_decompress accepts: inflateInit2(-12) and one inflate(Z_FINISH) into the whole buffer
// succeed and leave avail_out == 0. So the output must be filled completely; input after the point where
// it is full is ignored (as zlib does, decoding goes on until the next byte would not fit, so a corrupt
// code or block header right after that point is still an error); input that ends, or a final block that
// ends, before the output is full is an error; everything zlib refuses in the data decoded is an error.
// A back-reference may reach any byte written so far (zlib's 4 KiB window does not limit one call).
// Works in place on the caller's buffers with about 8 KiB of stack; `out` is scratch on failure.
Result<void> inflate_cluster(ByteSpan in, uint8_t* out, size_t out_size);

}  // namespace instar::compress
