// measure_plan.cc: qemu-img measure's size arithmetic for raw and qcow2 targets.
#include "core/ops/measure_plan.h"

#include "core/base/checked.h"

namespace instar::measure {

namespace {

inline constexpr uint64_t kL1EntryBytes = 8;
inline constexpr uint64_t kReftableEntryBytes = 8;
inline constexpr uint64_t kBitmapTableEntryBytes = 8;
inline constexpr uint64_t kBitmapDirEntryHeaderBytes = 24;

uint64_t div_round_up(uint64_t a, uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }
// Rounds up to a multiple of `alignment` (a power of two); the caller keeps `value` small enough.
uint64_t round_up(uint64_t value, uint64_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }

uint32_t log2_of(uint64_t power_of_two) { return static_cast<uint32_t>(__builtin_ctzll(power_of_two)); }

}  // namespace

size_t cluster_size_index(uint64_t cluster_size) {
  if (!is_power_of_two(cluster_size) || cluster_size < kMinClusterSize || cluster_size > kMaxClusterSize)
    return kClusterSizeCount;
  return log2_of(cluster_size) - 9;
}

Result<void> check_cluster_size(uint64_t cluster_size, bool extended_l2) {
  // qemu takes ctz32 of the (size_t) value: only an exact power of two in range passes.
  if (cluster_size_index(cluster_size) == kClusterSizeCount)
    return make_error(Errc::invalid, "Cluster size must be a power of two between 512 and 2048k");
  if (extended_l2 && cluster_size < kMinExtendedL2ClusterSize)
    return make_error(Errc::invalid,
                      "Extended L2 entries are only supported with cluster sizes of at least 16384 bytes");
  return ok();
}

Result<void> check_refcount_bits(uint64_t refcount_bits, int version) {
  if (refcount_bits > 64 || !is_power_of_two(refcount_bits))
    return make_error(Errc::invalid, "Refcount width must be a power of two and may not exceed 64 bits");
  if (version < 3 && refcount_bits != 16)
    return make_error(Errc::invalid,
                      "Different refcount widths than 16 bits require compatibility level 1.1 or above "
                      "(use compat=1.1 or greater)");
  return ok();
}

uint64_t qcow2_refcount_metadata_size(uint64_t clusters, uint64_t cluster_size, uint32_t refcount_order) {
  uint64_t blocks_per_table_cluster = cluster_size / kReftableEntryBytes;
  uint64_t refcounts_per_block = cluster_size * 8 >> refcount_order;
  uint64_t table = 0;
  uint64_t blocks = 0;
  uint64_t n = 0;
  uint64_t last;
  // Each round can only grow; with at least 64 refcounts per block it settles within a few rounds.
  for (int round = 0; round < 256; round++) {
    last = n;
    blocks = div_round_up(clusters + table + blocks, refcounts_per_block);
    table = div_round_up(blocks, blocks_per_table_cluster);
    n = clusters + blocks + table;
    if (n == last) break;
  }
  return (blocks + table) * cluster_size;
}

uint64_t qcow2_prealloc_size(uint64_t total_size, uint64_t cluster_size, uint32_t refcount_order,
                             bool extended_l2) {
  uint64_t l2_entry_bytes = extended_l2 ? 16 : 8;
  uint64_t aligned_total = round_up(total_size, cluster_size);
  uint64_t meta = cluster_size;  // the header
  uint64_t l2_entries = round_up(aligned_total / cluster_size, cluster_size / l2_entry_bytes);
  meta += l2_entries * l2_entry_bytes;
  uint64_t l1_entries = round_up(l2_entries * l2_entry_bytes / cluster_size, cluster_size / kL1EntryBytes);
  meta += l1_entries * kL1EntryBytes;
  meta += qcow2_refcount_metadata_size((meta + aligned_total) / cluster_size, cluster_size, refcount_order);
  return meta + aligned_total;
}

Result<uint64_t> qcow2_bitmaps_size(const BitmapSpec* bitmaps, size_t count, uint64_t disk_size,
                                    uint64_t cluster_size) {
  uint64_t total = 0;
  uint64_t directory = 0;
  for (size_t i = 0; i < count; i++) {
    const BitmapSpec& b = bitmaps[i];
    if (b.granularity_bits > 63) return make_error(Errc::invalid, "bitmap granularity out of range");
    uint64_t bits = div_round_up(disk_size, uint64_t{1} << b.granularity_bits);
    uint64_t clusters = div_round_up(div_round_up(bits, 8), cluster_size);
    INSTAR_TRY_ASSIGN(data, checked_mul(clusters, cluster_size));
    INSTAR_TRY_ASSIGN(table_bytes, checked_mul(clusters, kBitmapTableEntryBytes));
    INSTAR_TRY_ASSIGN(table, checked_align_up(table_bytes, cluster_size));
    INSTAR_TRY_ASSIGN(with_data, checked_add(total, data));
    INSTAR_TRY_ASSIGN(with_table, checked_add(with_data, table));
    total = with_table;
    // The directory entry: header, name, no extra data, padded to 8 bytes.
    INSTAR_TRY_ASSIGN(entry_raw, checked_add(kBitmapDirEntryHeaderBytes, b.name_length));
    INSTAR_TRY_ASSIGN(entry, checked_align_up(entry_raw, 8));
    INSTAR_TRY_ASSIGN(dir, checked_add(directory, entry));
    directory = dir;
  }
  INSTAR_TRY_ASSIGN(dir_clusters, checked_align_up(directory, cluster_size));
  return checked_add(total, dir_clusters);
}

Result<Measurement> plan_qcow2(const Qcow2Options& o, const Source* source) {
  INSTAR_TRY(check_cluster_size(o.cluster_size, o.extended_l2));
  INSTAR_TRY(check_refcount_bits(o.refcount_bits, o.version));
  uint64_t cs = o.cluster_size;
  uint64_t l2_entry_bytes = o.extended_l2 ? 16 : 8;
  // qemu rounds the size option in 64-bit arithmetic: near 2^64 it wraps to a small number.
  uint64_t virtual_size = (o.size + cs - 1) & ~(cs - 1);
  uint64_t l2_tables = div_round_up(virtual_size / cs, cs / l2_entry_bytes);
  if (l2_tables > kMaxL1Bytes / kL1EntryBytes)
    return make_error(Errc::too_large, "The image size is too large (try using a larger cluster size)");

  uint64_t data = 0;
  if (source != nullptr) {
    INSTAR_TRY_ASSIGN(aligned, checked_align_up(source->length, cs));
    virtual_size = aligned;
    data = o.has_backing_file ? virtual_size : source->data_bytes;
    if (data > virtual_size) return make_error(Errc::invalid, "source data exceeds its length");
  }
  if (o.prealloc == Prealloc::full || o.prealloc == Prealloc::falloc) data = virtual_size;
  // A source too large for the target's L1 table still gets an answer from qemu; keep the sums in range.
  if (virtual_size > (uint64_t{1} << 62)) return make_error(Errc::too_large, "image size out of range");

  Measurement m;
  INSTAR_TRY_ASSIGN(luks, checked_align_up(o.luks_payload, cs));
  uint64_t prealloc = qcow2_prealloc_size(virtual_size, cs, log2_of(o.refcount_bits), o.extended_l2);
  INSTAR_TRY_ASSIGN(fully, checked_add(luks, prealloc));
  m.fully_allocated = fully;
  m.required = fully - virtual_size + data;
  m.has_bitmaps = o.version >= 3 && source != nullptr && source->bitmaps_supported;
  if (m.has_bitmaps) m.bitmaps = source->bitmaps_size;
  return m;
}

Measurement plan_raw(uint64_t size, const Source* source) {
  Measurement m;
  if (source != nullptr) {
    m.required = source->length;
  } else {
    // The size option is at most INT64_MAX here (or wraps exactly as qemu's ROUND_UP does).
    m.required = (size + 511) & ~uint64_t{511};
  }
  m.fully_allocated = m.required;
  return m;
}

void DataCounter::add_data(uint64_t offset, uint64_t length) {
  if (length == 0) return;
  uint64_t end = offset + length;
  if (end < offset) end = ~uint64_t{0};
  for (size_t i = 0; i < kClusterSizeCount; i++) {
    uint32_t bits = static_cast<uint32_t>(9 + i);
    uint64_t start = offset > next_[i] ? offset : next_[i];
    if (start >= end) continue;
    uint64_t first = start >> bits;
    uint64_t last = (end - 1) >> bits;
    clusters_[i] += last - first + 1;
    // qemu extends the extent to the end of its last cluster and goes on from there.
    next_[i] = (last + 1) << bits;
    if (next_[i] == 0) next_[i] = ~uint64_t{0};
  }
}

uint64_t DataCounter::bytes_for(uint64_t cluster_size) const {
  size_t i = cluster_size_index(cluster_size);
  if (i == kClusterSizeCount) return 0;
  return clusters_[i] << (9 + i);
}

}  // namespace instar::measure
