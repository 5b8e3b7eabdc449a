// zstd_fuzzer.cc: zstd-compressed clusters through core/compress/cluster_codecs (Debian's libzstd, one
// decompression context reset for every cluster) against a fresh context per cluster as qemu's
// qcow2_zstd_decompress uses: the same verdict and the same bytes, whatever the previous input left behind.
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/compress/cluster_codecs.h"
#include "core/tests/compress/zstd_oracle.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

using instar::ByteSpan;
using instar::fuzz::InputReader;

constexpr size_t kMaxCluster = size_t{2} << 20;

// The cluster size: qcow2's 512 B .. 2 MiB, any size up to 64 KiB, or the first frame's content size (so
// that a mutated frame can still fill its cluster exactly).
size_t output_size(InputReader& reader) {
  static constexpr size_t kClusterSizes[] = {512, 1024, 4096, 16384, 65536, kMaxCluster};
  uint8_t selector = reader.u8() & 7;
  if (selector < 6) return kClusterSizes[selector];
  if (selector == 6) return size_t{reader.u16()} + 1;
  return 0;  // from the frame
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  InputReader reader(ByteSpan(data, size));
  size_t out_size = output_size(reader);
  ByteSpan in = reader.rest();
  if (out_size == 0) {
    unsigned long long content = ZSTD_getFrameContentSize(in.data, in.size);
    out_size = content >= 1 && content <= kMaxCluster ? size_t(content) : 4096;
  }
  static auto* mine = new uint8_t[kMaxCluster];
  static auto* theirs = new uint8_t[kMaxCluster];

  bool ok = instar::compress::zstd_decompress_cluster(in, mine, out_size).is_ok();
  bool qemu_ok = instar::testing::qemu_zstd_decompress(in.data, in.size, theirs, out_size);
  INSTAR_FUZZ_CHECK(ok == qemu_ok);
  if (ok) INSTAR_FUZZ_CHECK(std::memcmp(mine, theirs, out_size) == 0);
  return 0;
}
