// bitmap_store_plan.cc: qemu's store of persistent bitmaps on close (see bitmap_store_plan.h).
#include "core/qcow2/bitmap_store_plan.h"

#include "core/qcow2/bitmap_directory.h"

namespace instar::qcow2 {

namespace {

constexpr uint64_t kEntryOffsetMask = 0x00fffffffffffe00ull;
constexpr uint64_t kMaxCluster = uint64_t{1} << 40;  // bytes: no plan reaches past 1 TiB
constexpr uint8_t kTypeDirtyTracking = 1;

uint64_t entry_bytes(const StoredBitmap& b) {
  return (kQcow2BitmapEntryHeaderBytes + b.name.size + 7) & ~uint64_t{7};
}

void put_be(uint8_t* out, uint64_t value, size_t width) {
  for (size_t i = 0; i < width; i++) out[i] = static_cast<uint8_t>(value >> (8 * (width - 1 - i)));
}

// qemu's bitmap_list_store serialisation: the fixed part, no extra data, the name, zeros to 8 bytes.
void serialise_directory(const StoredBitmap* bitmaps, size_t count, const uint32_t* flags,
                         const uint64_t* table_offsets, uint8_t* out, uint64_t size) {
  for (uint64_t i = 0; i < size; i++) out[i] = 0;
  uint64_t at = 0;
  for (size_t i = 0; i < count; i++) {
    const StoredBitmap& b = bitmaps[i];
    uint8_t* e = out + at;
    put_be(e, table_offsets[i], 8);
    put_be(e + 8, b.table_size, 4);
    put_be(e + 12, flags[i], 4);
    e[16] = kTypeDirtyTracking;
    e[17] = b.granularity_bits;
    put_be(e + 18, b.name.size, 2);
    put_be(e + 20, 0, 4);
    for (size_t c = 0; c < b.name.size; c++) e[kQcow2BitmapEntryHeaderBytes + c] = b.name[c];
    at += entry_bytes(b);
  }
}

void sift_down(uint64_t* a, size_t start, size_t end) {
  size_t root = start;
  while (2 * root + 1 < end) {
    size_t child = 2 * root + 1;
    if (child + 1 < end && a[child] < a[child + 1]) child++;
    if (!(a[root] < a[child])) return;
    uint64_t t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

void heap_sort(uint64_t* a, size_t n) {
  for (size_t i = n / 2; i > 0; i--) sift_down(a, i - 1, n);
  for (size_t end = n; end > 1; end--) {
    uint64_t t = a[0];
    a[0] = a[end - 1];
    a[end - 1] = t;
    sift_down(a, 0, end - 1);
  }
}

uint64_t clusters_for(uint64_t bytes, uint32_t cluster_bits) {
  return (bytes >> cluster_bits) + ((bytes & ((uint64_t{1} << cluster_bits) - 1)) != 0 ? 1 : 0);
}

// qemu's first fit (alloc_clusters_noref): from `next`, the first run of `n` clusters with refcount 0.
Result<uint64_t> allocate(const ClusterCounts& refcounts, uint64_t& next, uint64_t n, uint64_t limit) {
  uint64_t start = next;
  uint64_t run = 0;
  for (uint64_t c = next; run < n; c++) {
    if (c >= limit) return make_error(Errc::unsupported, "a bitmap cluster past 1 TiB");
    if (refcounts.at(c) != 0) {
      run = 0;
      start = c + 1;
    } else {
      run++;
    }
  }
  next = start + n;
  return start;
}

}  // namespace

uint64_t bitmap_table_size(uint64_t disk_size, uint32_t granularity_bits, uint32_t cluster_bits) {
  if (granularity_bits > 63 || cluster_bits > 40) return 0;
  uint64_t granularity = uint64_t{1} << granularity_bits;
  uint64_t bits = disk_size / granularity + (disk_size % granularity != 0 ? 1 : 0);
  uint64_t bits_per_cluster = uint64_t{8} << cluster_bits;
  return bits / bits_per_cluster + (bits % bits_per_cluster != 0 ? 1 : 0);
}

Result<BitmapStorePlan> plan_bitmap_store(const BitmapStoreLayout& l, Arena& scratch) {
  BitmapStorePlan plan;
  plan.file_size = l.file_size;
  if (l.cluster_bits < 9 || l.cluster_bits > 21) return make_error(Errc::invalid, "bad cluster size");
  const uint64_t cluster_size = uint64_t{1} << l.cluster_bits;
  const uint64_t limit = kMaxCluster >> l.cluster_bits;

  // The directory qemu serialises must be the one it read: same names, same size.
  uint64_t dir_size = 0;
  size_t loaded = 0;
  uint64_t freed_count = l.directory_size == 0 ? 0 : clusters_for(l.directory_size, l.cluster_bits);
  for (size_t i = 0; i < l.bitmap_count; i++) {
    const StoredBitmap& b = l.bitmaps[i];
    if (b.name.size == 0 || b.name.size > 1023)
      return make_error(Errc::unsupported, "a bitmap name qemu reads differently");
    for (size_t c = 0; c < b.name.size; c++)
      if (b.name[c] == 0) return make_error(Errc::unsupported, "a bitmap name with a NUL");
    if ((b.flags & ~(kQcow2BitmapInUse | kQcow2BitmapAuto)) != 0)
      return make_error(Errc::unsupported, "reserved bitmap flags");
    dir_size += entry_bytes(b);
    if ((b.flags & kQcow2BitmapInUse) != 0) continue;
    loaded++;
    if (b.table_size == 0 ||
        b.table_size != bitmap_table_size(l.disk_size, b.granularity_bits, l.cluster_bits))
      return make_error(Errc::unsupported, "a bitmap table whose size qemu would compute differently");
    if (b.table_offset % cluster_size != 0) return make_error(Errc::invalid, "an unaligned bitmap table");
    freed_count += clusters_for(uint64_t{b.table_size} * 8, l.cluster_bits);
    for (uint32_t j = 0; j < b.table_size; j++) {
      if ((b.old_entries[j] & kEntryOffsetMask) != 0) freed_count++;
    }
  }
  if (dir_size != l.directory_size || l.bitmap_count == 0)
    return make_error(Errc::unsupported, "a bitmap directory qemu would serialise to another size");
  if (l.directory_offset % cluster_size != 0)
    return make_error(Errc::invalid, "an unaligned bitmap directory");
  if (loaded == 0) return plan;  // qemu loads no bitmap in use: nothing is written
  plan.stores = true;

  INSTAR_TRY_ASSIGN(flags, scratch.allocate_array<uint32_t>(l.bitmap_count));
  INSTAR_TRY_ASSIGN(tables, scratch.allocate_array<uint64_t>(l.bitmap_count));
  INSTAR_TRY_ASSIGN(in_place, scratch.allocate(static_cast<size_t>(dir_size)));
  INSTAR_TRY_ASSIGN(new_dir, scratch.allocate(static_cast<size_t>(dir_size)));
  INSTAR_TRY_ASSIGN(freed, scratch.allocate_array<uint64_t>(freed_count));

  // Open: every bitmap qemu loads is marked in use in the directory as it lies.
  for (size_t i = 0; i < l.bitmap_count; i++) {
    flags[i] = l.bitmaps[i].flags | kQcow2BitmapInUse;
    tables[i] = l.bitmaps[i].table_offset;
  }
  serialise_directory(l.bitmaps, l.bitmap_count, flags, tables, in_place, dir_size);

  // Writes: the directory in place, a data copy per set entry and a table per loaded bitmap, the new one.
  uint64_t write_count = 2 + loaded;
  for (size_t i = 0; i < l.bitmap_count; i++) {
    const StoredBitmap& b = l.bitmaps[i];
    if ((b.flags & kQcow2BitmapInUse) != 0) continue;
    for (uint32_t j = 0; j < b.table_size; j++) write_count += b.data[j] != 0 ? 1 : 0;
  }
  INSTAR_TRY_ASSIGN(writes, scratch.allocate_array<BitmapWrite>(write_count));
  INSTAR_TRY_ASSIGN(fixes, scratch.allocate_array<RefcountFix>(write_count + freed_count));
  size_t w = 0, fix_count = 0;
  writes[w++] = BitmapWrite{l.directory_offset, in_place, dir_size, 0};

  uint64_t next = 0;  // qemu's free_cluster_index: nothing lowered it since the image was opened
  auto note_allocation = [&](uint64_t first, uint64_t n) {
    for (uint64_t c = first; c < first + n; c++) fixes[fix_count++] = RefcountFix{c, 1};
  };
  // The new clusters lie before `next`, and each allocation starts at `next`: none is taken twice.
  for (size_t i = 0; i < l.bitmap_count; i++) {
    const StoredBitmap& b = l.bitmaps[i];
    flags[i] = b.flags & ~kQcow2BitmapInUse;
    if ((b.flags & kQcow2BitmapInUse) != 0) {
      flags[i] = b.flags;
      continue;
    }
    uint64_t table_bytes = uint64_t{b.table_size} * 8;
    INSTAR_TRY_ASSIGN(table, scratch.allocate(static_cast<size_t>(table_bytes)));
    for (uint32_t j = 0; j < b.table_size; j++) {
      uint64_t entry = 0;
      if (b.data[j] != 0) {
        if (b.data[j] % cluster_size != 0)
          return make_error(Errc::invalid, "an unaligned bitmap data cluster");
        INSTAR_TRY_ASSIGN(cluster, allocate(l.refcounts, next, 1, limit));
        note_allocation(cluster, 1);
        entry = cluster << l.cluster_bits;
        writes[w++] = BitmapWrite{entry, nullptr, cluster_size, b.data[j]};
      }
      put_be(table + 8 * j, entry, 8);
    }
    uint64_t n = clusters_for(table_bytes, l.cluster_bits);
    INSTAR_TRY_ASSIGN(first, allocate(l.refcounts, next, n, limit));
    note_allocation(first, n);
    tables[i] = first << l.cluster_bits;
    writes[w++] = BitmapWrite{tables[i], table, table_bytes, 0};
  }
  uint64_t dir_clusters = clusters_for(dir_size, l.cluster_bits);
  INSTAR_TRY_ASSIGN(dir_first, allocate(l.refcounts, next, dir_clusters, limit));
  note_allocation(dir_first, dir_clusters);
  plan.new_directory_offset = dir_first << l.cluster_bits;
  serialise_directory(l.bitmaps, l.bitmap_count, flags, tables, new_dir, dir_size);
  writes[w++] = BitmapWrite{plan.new_directory_offset, new_dir, dir_size, 0};

  // Then the old tables, their data clusters and the old directory are freed: each must be counted once.
  INSTAR_TRY_ASSIGN(discards, scratch.allocate_array<RepairDiscard>(freed_count));
  size_t f = 0, d = 0;
  auto free_range = [&](uint64_t offset, uint64_t bytes) {
    uint64_t first = offset >> l.cluster_bits;
    for (uint64_t c = 0; c < clusters_for(bytes, l.cluster_bits); c++) freed[f++] = first + c;
  };
  free_range(l.directory_offset, l.directory_size);
  for (size_t i = 0; i < l.bitmap_count; i++) {
    const StoredBitmap& b = l.bitmaps[i];
    if ((b.flags & kQcow2BitmapInUse) != 0) continue;
    free_range(b.table_offset, uint64_t{b.table_size} * 8);
    for (uint32_t j = 0; j < b.table_size; j++) {
      uint64_t offset = b.old_entries[j] & kEntryOffsetMask;
      if (offset == 0) continue;
      free_range(offset, cluster_size);
      discards[d++] = RepairDiscard{offset, cluster_size};
    }
  }
  heap_sort(freed, f);
  for (size_t i = 0; i < f; i++) {
    if (i > 0 && freed[i] == freed[i - 1])
      return make_error(Errc::unsupported, "a bitmap cluster freed twice");
    if (l.refcounts.at(freed[i]) != 1)
      return make_error(Errc::unsupported, "a bitmap cluster whose refcount is not 1");
    fixes[fix_count++] = RefcountFix{freed[i], 0};
  }
  // Allocations increase, and so do frees; no cluster is both (a freed one was in use throughout).
  INSTAR_TRY_ASSIGN(merged, scratch.allocate_array<RefcountFix>(fix_count));
  size_t a = 0, a_end = fix_count - f, b = a_end, m = 0;
  while (a < a_end || b < fix_count) {
    if (b >= fix_count || (a < a_end && fixes[a].cluster < fixes[b].cluster))
      merged[m++] = fixes[a++];
    else
      merged[m++] = fixes[b++];
  }

  for (size_t i = 0; i < w; i++) {
    uint64_t end = writes[i].offset + writes[i].length;
    if (end > plan.file_size) plan.file_size = end;
  }
  plan.writes = writes;
  plan.write_count = w;
  plan.refcounts = merged;
  plan.refcount_count = m;
  plan.discards = discards;
  plan.discard_count = d;
  return plan;
}

}  // namespace instar::qcow2
