// check_bitmap_store.cc: load the bitmaps as qemu's read-write open does, plan and issue their store.
#include "core/ops/check_bitmap_store.h"

#include "core/base/padded.h"
#include "core/base/span_reader.h"
#include "core/qcow2/bitmap_directory.h"
#include "core/qcow2/header_rewrite.h"

namespace instar {

namespace {

constexpr uint64_t kEntryOffsetMask = 0x00fffffffffffe00ull;
// A bound on the tables read (8 MiB of entries): far beyond any bitmap of a 1 TiB disk.
constexpr uint64_t kMaxTableEntries = uint64_t{1} << 20;

Result<ByteSpan> read_inside(BlockDevice& image, Arena& scratch, uint64_t offset, uint64_t length) {
  if (offset > image.size() || length > image.size() - offset)
    return make_error(Errc::unsupported, "bitmap metadata outside the file");
  INSTAR_TRY_ASSIGN(buffer, scratch.allocate(static_cast<size_t>(length)));
  if (length != 0) INSTAR_TRY(image.read(offset, buffer, static_cast<size_t>(length)));
  return ByteSpan(buffer, static_cast<size_t>(length));
}

bool any_bit(const uint8_t* bytes, uint64_t first_bit, uint64_t end_bit) {
  for (uint64_t i = first_bit; i < end_bit;) {
    if (i % 8 == 0 && end_bit - i >= 8) {
      if (bytes[i / 8] != 0) return true;
      i += 8;
      continue;
    }
    if ((bytes[i / 8] >> (i % 8)) & 1) return true;
    i++;
  }
  return false;
}

// One bitmap's table as qemu's load reads it: `data[j]` is the cluster to copy (0: no set bit).
Result<void> load_table(BlockDevice& image, Arena& scratch, const qcow2::StoredBitmap& b, uint64_t disk_size,
                        uint32_t cluster_bits, uint64_t* data, uint64_t* entries, uint8_t* cluster) {
  const uint64_t cluster_size = uint64_t{1} << cluster_bits;
  INSTAR_TRY_ASSIGN(table, read_inside(image, scratch, b.table_offset, uint64_t{b.table_size} * 8));
  uint64_t granularity = uint64_t{1} << b.granularity_bits;
  uint64_t bits = disk_size / granularity + (disk_size % granularity != 0 ? 1 : 0);
  const uint64_t bits_per_cluster = cluster_size * 8;
  for (uint32_t j = 0; j < b.table_size; j++) {
    uint64_t entry = load_be(table, size_t{j} * 8, 8);
    entries[j] = entry;
    data[j] = 0;
    if (!qcow2_bitmap_table_entry_valid(entry, cluster_size))
      return make_error(Errc::unsupported, "a bitmap table entry qemu's load rejects");
    uint64_t offset = entry & kEntryOffsetMask;
    if (offset == 0) {
      if (entry != 0) return make_error(Errc::unsupported, "a bitmap table entry that reads as all ones");
      continue;
    }
    if (offset > image.size() || cluster_size > image.size() - offset)
      return make_error(Errc::unsupported, "bitmap data outside the file");
    INSTAR_TRY(image.read(offset, cluster, static_cast<size_t>(cluster_size)));
    uint64_t first = uint64_t{j} * bits_per_cluster;
    uint64_t in_range =
        first >= bits ? 0 : (bits - first < bits_per_cluster ? bits - first : bits_per_cluster);
    if (any_bit(cluster, in_range, bits_per_cluster))
      return make_error(Errc::unsupported, "bitmap data with bits set past the bitmap's end");
    if (any_bit(cluster, 0, in_range)) data[j] = offset;
  }
  return ok();
}

}  // namespace

Result<CheckBitmapStore> plan_check_bitmap_store(BlockDevice& image, const qcow2::Header& h,
                                                 const qcow2::Extensions& ext,
                                                 const qcow2::ClusterCounts& refcounts,
                                                 uint64_t snapshot_table_bytes, Arena& scratch) {
  using namespace qcow2;
  CheckBitmapStore result;
  const uint64_t cluster_size = h.cluster_size();
  const uint64_t disk_size = h.size / 512 * 512;
  const BitmapsExtension& e = ext.bitmaps;
  if (!ext.has_bitmaps || e.nb_bitmaps == 0) return make_error(Errc::invalid, "no bitmaps to store");

  // The directory, checked again as qemu's open checks it.
  INSTAR_TRY_ASSIGN(dir, read_inside(image, scratch, e.directory_offset, e.directory_size));
  Qcow2BitmapReader reader(dir, e, cluster_size, disk_size);
  INSTAR_TRY(reader.validate());
  INSTAR_TRY_ASSIGN(bitmaps, scratch.allocate_array<StoredBitmap>(e.nb_bitmaps));
  INSTAR_TRY_ASSIGN(cluster, scratch.allocate(static_cast<size_t>(cluster_size)));
  uint64_t pos = 0;
  uint64_t total_entries = 0;
  for (uint32_t i = 0; i < e.nb_bitmaps; i++) {
    Qcow2Bitmap b{};
    INSTAR_TRY_ASSIGN(more, reader.next(b));
    if (!more) return make_error(Errc::invalid, "fewer bitmaps than the extension says");
    uint32_t name_size = static_cast<uint32_t>(load_be_padded(dir, pos + 18, 2));
    StoredBitmap& s = bitmaps[i];
    s.name = dir.subspan(static_cast<size_t>(pos + kQcow2BitmapEntryHeaderBytes), name_size);
    s.flags = b.flags;
    s.granularity_bits = static_cast<uint8_t>(b.granularity_bits);
    s.table_offset = b.table_offset;
    s.table_size = b.table_size;
    pos += (kQcow2BitmapEntryHeaderBytes + name_size + 7) & ~uint64_t{7};
    if ((b.flags & kQcow2BitmapInUse) != 0) continue;  // qemu does not load it
    total_entries += b.table_size;
    if (total_entries > kMaxTableEntries) return make_error(Errc::unsupported, "bitmap tables too large");
    INSTAR_TRY_ASSIGN(data, scratch.allocate_array<uint64_t>(b.table_size));
    INSTAR_TRY_ASSIGN(entries, scratch.allocate_array<uint64_t>(b.table_size));
    INSTAR_TRY(load_table(image, scratch, s, disk_size, h.cluster_bits, data, entries, cluster));
    s.data = data;
    s.old_entries = entries;
  }

  BitmapStoreLayout layout;
  layout.cluster_bits = h.cluster_bits;
  layout.file_size = image.size();
  layout.disk_size = disk_size;
  layout.directory_offset = e.directory_offset;
  layout.directory_size = e.directory_size;
  layout.bitmaps = bitmaps;
  layout.bitmap_count = e.nb_bitmaps;
  layout.refcounts = refcounts;
  INSTAR_TRY_ASSIGN(store, plan_bitmap_store(layout, scratch));
  result.store = store;
  if (!store.stores) return result;

  // The refcounts, through the repair planner's checks (a block the table names, inside the file,
  // clear of the header and tables).
  uint64_t table_bytes = uint64_t{h.refcount_table_clusters} * cluster_size;
  INSTAR_TRY_ASSIGN(table, read_inside(image, scratch, h.refcount_table_offset, table_bytes));
  ProtectedRange protect[4] = {{0, cluster_size},
                               {h.refcount_table_offset, table_bytes},
                               {h.l1_table_offset, uint64_t{h.l1_size} * 8},
                               {h.snapshots_offset, h.nb_snapshots != 0 ? snapshot_table_bytes : 0}};
  RepairLayout repair_layout;
  repair_layout.cluster_bits = h.cluster_bits;
  repair_layout.refcount_order = h.refcount_order;
  repair_layout.file_size = image.size();
  repair_layout.refcount_table = table;
  repair_layout.protected_ranges = protect;
  repair_layout.protected_count = 4;
  INSTAR_TRY_ASSIGN(refcount_plan,
                    plan_refcount_repair(repair_layout, store.refcounts, store.refcount_count, scratch));
  result.refcounts = refcount_plan;

  // qemu rewrites the whole header cluster to point the extension at the new directory: instar
  // writes that field alone, so the rewrite must leave every other byte as it is.
  INSTAR_TRY_ASSIGN(first, read_inside(image, scratch, 0, cluster_size));
  INSTAR_TRY_ASSIGN(rewritten, scratch.allocate(static_cast<size_t>(cluster_size)));
  INSTAR_TRY(serialise_header_with_bitmaps(h, first, h.incompatible_features, &e, rewritten, scratch));
  for (size_t i = 0; i < first.size; i++) {
    if (rewritten[i] != first[i])
      return make_error(Errc::unsupported,
                        "a header qemu's rewrite would change beyond the bitmaps extension");
  }
  size_t data_at = bitmaps_extension_data_offset(h, first);
  if (data_at == 0) return make_error(Errc::invalid, "no bitmaps extension in the header");
  result.directory_field = data_at + 16;

  // Every write lands on clusters the refcounts leave free (or, for the directory in place, its own),
  // never on the refcount blocks the refcount writes touch.
  for (size_t i = 0; i < store.write_count; i++) {
    const BitmapWrite& w = store.writes[i];
    for (size_t s = 0; s < refcount_plan.span_count; s++) {
      if (ranges_overlap(w.offset, w.length, refcount_plan.spans[s].offset, refcount_plan.spans[s].length))
        return make_error(Errc::invalid, "a bitmap write over a refcount block");
    }
    for (const ProtectedRange& p : protect) {
      if (ranges_overlap(w.offset, w.length, p.offset, p.length))
        return make_error(Errc::invalid, "a bitmap write over the image's metadata");
    }
  }
  return result;
}

Result<void> apply_check_bitmap_store(BlockDevice& image, const CheckBitmapStore& plan, Arena& scratch) {
  const qcow2::BitmapStorePlan& store = plan.store;
  if (!store.stores) return ok();
  if (image.size() < store.file_size)
    return make_error(Errc::io, "the device is smaller than the bitmap store");
  uint64_t longest = 0;
  for (size_t i = 0; i < store.write_count; i++)
    if (store.writes[i].bytes == nullptr && store.writes[i].length > longest)
      longest = store.writes[i].length;
  for (size_t i = 0; i < plan.refcounts.span_count; i++)
    if (plan.refcounts.spans[i].length > longest) longest = plan.refcounts.spans[i].length;
  INSTAR_TRY_ASSIGN(buffer, scratch.allocate(static_cast<size_t>(longest == 0 ? 1 : longest)));
  for (size_t i = 0; i < store.write_count; i++) {
    const qcow2::BitmapWrite& w = store.writes[i];
    const uint8_t* bytes = w.bytes;
    if (bytes == nullptr) {
      INSTAR_TRY(image.read(w.from, buffer, static_cast<size_t>(w.length)));
      bytes = buffer;
    }
    INSTAR_TRY(image.write(w.offset, bytes, static_cast<size_t>(w.length)));
  }
  INSTAR_TRY(image.flush());
  for (size_t i = 0; i < plan.refcounts.span_count; i++) {
    const qcow2::RepairSpan& span = plan.refcounts.spans[i];
    INSTAR_TRY(image.read(span.offset, buffer, static_cast<size_t>(span.length)));
    qcow2::SpanChange change = qcow2::apply_repair_span(plan.refcounts, span, buffer);
    if (change.end == change.begin) continue;
    INSTAR_TRY(image.write(span.offset + change.begin, buffer + change.begin,
                           static_cast<size_t>(change.end - change.begin)));
  }
  for (size_t i = 0; i < store.discard_count; i++)
    INSTAR_TRY(image.write_zeroes(store.discards[i].offset, store.discards[i].length, true));
  INSTAR_TRY(image.flush());
  uint8_t field[8];
  for (size_t i = 0; i < 8; i++) field[i] = static_cast<uint8_t>(store.new_directory_offset >> (56 - 8 * i));
  INSTAR_TRY(image.write(plan.directory_field, field, sizeof field));
  return image.flush();
}

Result<BitmapsExtensionDrop> plan_bitmaps_extension_drop(BlockDevice& image, const qcow2::Header& h,
                                                         Arena& scratch) {
  using namespace qcow2;
  const uint64_t cluster_size = h.cluster_size();
  INSTAR_TRY_ASSIGN(first, read_inside(image, scratch, 0, cluster_size));
  size_t data_at = bitmaps_extension_data_offset(h, first);
  if (data_at == 0 || load_be(first, data_at + 4, 4) != 0)
    return make_error(Errc::unsupported, "a bitmaps extension qemu's rewrite would not keep as it is");
  // qemu's serialisation, the extension kept, must be the cluster as it is ...
  BitmapsExtension kept;
  kept.nb_bitmaps = static_cast<uint32_t>(load_be(first, data_at, 4));
  kept.directory_size = load_be(first, data_at + 8, 8);
  kept.directory_offset = load_be(first, data_at + 16, 8);
  INSTAR_TRY_ASSIGN(check, scratch.allocate(static_cast<size_t>(cluster_size)));
  INSTAR_TRY(serialise_header_with_bitmaps(h, first, h.incompatible_features, &kept, check, scratch));
  for (size_t i = 0; i < first.size; i++) {
    if (check[i] != first[i])
      return make_error(Errc::unsupported,
                        "a header qemu's rewrite would change beyond the bitmaps extension");
  }
  // ... so that the cluster it writes without the extension is known.
  INSTAR_TRY_ASSIGN(dropped, scratch.allocate(static_cast<size_t>(cluster_size)));
  INSTAR_TRY(serialise_header_with_bitmaps(h, first, h.incompatible_features, nullptr, dropped, scratch));
  BitmapsExtensionDrop drop;
  drop.header = dropped;
  size_t begin = 0, end = first.size;
  while (begin < end && dropped[begin] == first[begin]) begin++;
  while (end > begin && dropped[end - 1] == first[end - 1]) end--;
  drop.begin = begin;
  drop.end = end;
  return drop;
}

}  // namespace instar
