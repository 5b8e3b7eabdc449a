// measure_fuzzer.cc: qemu-img measure's planner (core/ops/measure_plan.h) on
// random options, sizes, source extents and bitmaps. Invariants: no trap on
// overflow, required <= fully allocated, data never beyond the virtual size,
// counts never shrink as extents are added.
#include <cstring>

#include "core/base/span_reader.h"
#include "core/ops/measure_plan.h"
#include "fuzz-targets/fuzz_support.h"

using namespace instar;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  SpanReader in(ByteSpan(data, size));
  uint8_t flags = 0, cluster_bits = 0, refcount_order = 0, prealloc = 0, bitmap_count = 0;
  uint64_t option_size = 0, source_length = 0;
  if (!in.read_u8(flags) || !in.read_u8(cluster_bits) || !in.read_u8(refcount_order) || !in.read_u8(prealloc) ||
      !in.read_u64_le(option_size) || !in.read_u64_le(source_length) || !in.read_u8(bitmap_count))
    return 0;
  measure::Qcow2Options o;
  // Mostly valid cluster sizes and refcount widths, sometimes anything.
  o.cluster_size = (flags & 0x80) ? (uint64_t{1} << (cluster_bits % 64)) + (flags & 1) : uint64_t{512} << (cluster_bits % 13);
  o.refcount_bits = uint64_t{1} << (refcount_order % 8);
  o.extended_l2 = (flags & 2) != 0;
  o.version = (flags & 4) ? 2 : 3;
  o.prealloc = static_cast<measure::Prealloc>(prealloc % 4);
  o.has_backing_file = (flags & 8) != 0;
  o.size = (flags & 0x40) ? option_size : option_size >> (cluster_bits % 64);
  bool with_source = (flags & 16) != 0;
  source_length >>= (refcount_order % 64);

  measure::DataCounter counter;
  uint64_t previous[measure::kClusterSizeCount] = {};
  uint64_t offset = 0;
  for (int i = 0; i < 64; i++) {
    uint32_t gap = 0, length = 0;
    if (!in.read_u32_le(gap) || !in.read_u32_le(length)) break;
    offset += gap;
    if (offset >= source_length) break;
    uint64_t len = length;
    if (len > source_length - offset) len = source_length - offset;
    counter.add_data(offset, len);
    offset += len;
    for (size_t c = 0; c < measure::kClusterSizeCount; c++) {
      INSTAR_FUZZ_CHECK(counter.clusters_at(c) >= previous[c]);
      previous[c] = counter.clusters_at(c);
      // Never more clusters than the source spans.
      INSTAR_FUZZ_CHECK(counter.clusters_at(c) <= (source_length >> (9 + c)) + 1);
    }
  }
  measure::BitmapSpec bitmaps[8];
  size_t nb = bitmap_count % 9;
  for (size_t i = 0; i < nb; i++) {
    uint8_t name = 0, granularity = 0;
    if (!in.read_u8(name) || !in.read_u8(granularity)) {
      nb = i;
      break;
    }
    bitmaps[i].name_length = name;
    bitmaps[i].granularity_bits = 9 + granularity % 23;
  }

  measure::Source source;
  source.length = source_length;
  size_t index = measure::cluster_size_index(o.cluster_size);
  if (index < measure::kClusterSizeCount) {
    source.data_bytes = counter.bytes_for(o.cluster_size);
    auto b = measure::qcow2_bitmaps_size(bitmaps, nb, source_length, o.cluster_size);
    if (b.is_ok()) source.bitmaps_size = b.value();
  }
  source.bitmaps_supported = (flags & 32) != 0;
  auto m = measure::plan_qcow2(o, with_source ? &source : nullptr);
  if (m.is_ok()) {
    const measure::Measurement& r = m.value();
    INSTAR_FUZZ_CHECK(r.required <= r.fully_allocated);
    INSTAR_FUZZ_CHECK(r.fully_allocated % o.cluster_size == 0 || o.cluster_size == 0);
    if (o.prealloc == measure::Prealloc::full || o.prealloc == measure::Prealloc::falloc)
      INSTAR_FUZZ_CHECK(r.required == r.fully_allocated);
    INSTAR_FUZZ_CHECK(!r.has_bitmaps || with_source);
  }
  measure::Measurement raw = measure::plan_raw(option_size >> 1, with_source ? &source : nullptr);
  INSTAR_FUZZ_CHECK(raw.required == raw.fully_allocated);
  return 0;
}
