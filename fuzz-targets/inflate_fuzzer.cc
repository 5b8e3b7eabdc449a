// inflate_fuzzer.cc: zlib-compressed clusters through core/compress/cluster_codecs (the fast decoder of
// deflate_decoder.cc, then Debian's zlib as in the guest) under the sanitizers, pinned to qemu's
// qcow2_zlib_decompress call pattern; a success must write every byte of the cluster (the output is
// decoded twice over different fill patterns). The fast decoder alone is held to its promise: whenever
// it answers, zlib accepts the stream with the same bytes.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/compress/cluster_codecs.h"
#include "core/compress/deflate_decoder.h"
#include "core/tests/compress/deflate_oracle.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

using instar::ByteSpan;
using instar::fuzz::InputReader;

// The cluster size: qcow2's 512 B .. 2 MiB, or any size up to 64 KiB to reach every stopping point.
size_t output_size(InputReader& reader) {
  static constexpr size_t kClusterSizes[] = {512, 1024, 4096, 16384, 65536, 2u << 20};
  uint8_t selector = reader.u8() & 7;
  if (selector < 6) return kClusterSizes[selector];
  if (selector == 6) return size_t{reader.u16()} + 1;
  return size_t{reader.u8()} + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  InputReader reader(ByteSpan(data, size));
  size_t out_size = output_size(reader);
  ByteSpan in = reader.rest();

  // Exactly the cluster size, so that ASan sees any write past it.
  std::unique_ptr<uint8_t[]> ours(new uint8_t[out_size]), theirs(new uint8_t[out_size]);
  std::memset(ours.get(), 0x00, out_size);
  std::memset(theirs.get(), 0xFF, out_size);
  auto result = instar::compress::inflate_cluster(in, ours.get(), out_size);
  bool zlib_ok = instar::testing::qemu_zlib_decompress(in.data, in.size, theirs.get(), out_size);
  INSTAR_FUZZ_CHECK(result.is_ok() == zlib_ok);
  if (zlib_ok) INSTAR_FUZZ_CHECK(std::memcmp(ours.get(), theirs.get(), out_size) == 0);
  if (result.is_error()) INSTAR_FUZZ_CHECK(result.error().message[0] != '\0');

  static auto* tables = new instar::compress::DeflateTables;
  std::unique_ptr<uint8_t[]> fast(new uint8_t[out_size]);
  std::memset(fast.get(), 0x5A, out_size);
  if (instar::compress::decode_deflate_exact(*tables, in, fast.get(), out_size)) {
    INSTAR_FUZZ_CHECK(zlib_ok);
    INSTAR_FUZZ_CHECK(std::memcmp(fast.get(), theirs.get(), out_size) == 0);
  }
  return 0;
}
