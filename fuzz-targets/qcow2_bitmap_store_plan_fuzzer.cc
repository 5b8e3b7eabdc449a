// qcow2_bitmap_store_plan_fuzzer.cc: qcow2::plan_bitmap_store (qemu's store of persistent bitmaps on
// close, check -r) on any layout; a plan, when there is one, must allocate only clusters whose refcount
// is 0 (each once), free only clusters whose refcount is 1 (each once, the old directory, tables and
// data clusters of the bitmaps not in use; only the data clusters discarded), list its refcount changes by
// strictly increasing cluster, write the directory in place first (the same size, every bitmap in use) and
// the new directory last, copy each data cluster and write each table into clusters it allocated, keep a
// bitmap in use as it was, and reach no further than its file size. Nothing is stored when every bitmap is in
// use.
//
// Input (big-endian, docs/fuzzing.md): cluster_bits u8 (9 + n % 13), disk size u16 (in 64 KiB units),
// file size u16 (in clusters), refcount count u8 and refcounts u8 each (n % 3), directory offset u8
// (clusters), directory size adjust u8 (bit 0: one byte off), bitmap count u8 (n % 5), then per
// bitmap: flags u8 (bits 0-1; bit 7: a table size qemu would not compute), granularity u8 (9 + n % 23),
// name size u8 (1 + n % 8) and the name, table offset u8 (clusters), then per table entry a data
// cluster u8 (0: no set bit).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <vector>

#include "core/qcow2/bitmap_directory.h"
#include "core/qcow2/bitmap_store_plan.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

constexpr size_t kScratchBytes = 1u << 20;
constexpr uint32_t kMaxEntries = 64;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace instar;
  using namespace instar::qcow2;
  instar::fuzz::InputReader in(instar::ByteSpan(data, size));
  BitmapStoreLayout layout;
  layout.cluster_bits = 9 + in.u8() % 13;
  const uint64_t cluster_size = uint64_t{1} << layout.cluster_bits;
  layout.disk_size = uint64_t{in.u16()} << 16;
  layout.file_size = uint64_t{in.u16()} * cluster_size;
  std::vector<uint16_t> refcounts(in.u8());
  for (uint16_t& r : refcounts) r = in.u8() % 3;
  layout.refcounts.narrow = refcounts.data();
  layout.refcounts.count = refcounts.size();
  layout.directory_offset = uint64_t{in.u8()} * cluster_size;
  uint8_t adjust = in.u8();
  size_t count = in.u8() % 5;
  std::vector<StoredBitmap> bitmaps(count);
  std::vector<std::vector<uint8_t>> names(count);
  std::vector<std::vector<uint64_t>> datas(count), entries(count);
  uint64_t dir_size = 0;
  for (size_t i = 0; i < count; i++) {
    StoredBitmap& b = bitmaps[i];
    uint8_t flags = in.u8();
    b.flags = flags & 3;
    b.granularity_bits = static_cast<uint8_t>(9 + in.u8() % 23);
    names[i].resize(1 + in.u8() % 8);
    for (uint8_t& c : names[i]) c = in.u8();
    b.name = instar::ByteSpan(names[i].data(), names[i].size());
    b.table_offset = uint64_t{in.u8()} * cluster_size;
    uint64_t table_size = bitmap_table_size(layout.disk_size, b.granularity_bits, layout.cluster_bits);
    if ((flags & 0x80) != 0) table_size++;
    if (table_size > kMaxEntries) return 0;
    b.table_size = static_cast<uint32_t>(table_size);
    datas[i].resize(table_size);
    entries[i].resize(table_size);
    for (uint32_t j = 0; j < table_size; j++) {
      datas[i][j] = uint64_t{in.u8()} * cluster_size;
      entries[i][j] = datas[i][j];
    }
    b.data = datas[i].data();
    b.old_entries = entries[i].data();
    dir_size += (kQcow2BitmapEntryHeaderBytes + names[i].size() + 7) & ~uint64_t{7};
  }
  layout.directory_size = dir_size + (adjust & 1);
  layout.bitmaps = bitmaps.data();
  layout.bitmap_count = count;

  static std::unique_ptr<uint8_t[]> scratch(new uint8_t[kScratchBytes]);
  instar::Arena arena(scratch.get(), kScratchBytes);
  auto planned = plan_bitmap_store(layout, arena);
  INSTAR_FUZZ_CHECK(arena.used() <= arena.capacity());
  if (planned.is_error()) {
    INSTAR_FUZZ_CHECK(planned.error().message != nullptr && planned.error().message[0] != '\0');
    return 0;
  }
  const BitmapStorePlan& plan = planned.value();
  INSTAR_FUZZ_CHECK((adjust & 1) == 0 && count != 0);
  size_t loaded = 0, copies = 0;
  for (const StoredBitmap& b : bitmaps) {
    if ((b.flags & kQcow2BitmapInUse) != 0) continue;
    loaded++;
    for (uint32_t j = 0; j < b.table_size; j++) copies += b.data[j] != 0 ? 1 : 0;
  }
  INSTAR_FUZZ_CHECK(plan.stores == (loaded != 0));
  if (!plan.stores) {
    INSTAR_FUZZ_CHECK(plan.write_count == 0 && plan.refcount_count == 0);
    return 0;
  }

  // Refcounts: strictly increasing; 1 only where it was 0, 0 only where it was 1.
  std::set<uint64_t> allocated, freed;
  for (size_t i = 0; i < plan.refcount_count; i++) {
    const RefcountFix& f = plan.refcounts[i];
    if (i > 0) INSTAR_FUZZ_CHECK(plan.refcounts[i - 1].cluster < f.cluster);
    uint64_t before = layout.refcounts.at(f.cluster);
    INSTAR_FUZZ_CHECK((f.refcount == 1 && before == 0) || (f.refcount == 0 && before == 1));
    (f.refcount == 1 ? allocated : freed).insert(f.cluster);
  }
  // What is freed: the old directory, and each loaded bitmap's table and data clusters.
  std::set<uint64_t> expected_free, expected_discards, discarded;
  for (uint64_t c = 0; c * cluster_size < layout.directory_size; c++)
    expected_free.insert((layout.directory_offset >> layout.cluster_bits) + c);
  for (const StoredBitmap& b : bitmaps) {
    if ((b.flags & kQcow2BitmapInUse) != 0) continue;
    for (uint64_t c = 0; c * cluster_size < uint64_t{b.table_size} * 8; c++)
      expected_free.insert((b.table_offset >> layout.cluster_bits) + c);
    for (uint32_t j = 0; j < b.table_size; j++)
      if (b.old_entries[j] != 0) {
        expected_free.insert(b.old_entries[j] >> layout.cluster_bits);
        expected_discards.insert(b.old_entries[j]);
      }
  }
  INSTAR_FUZZ_CHECK(freed == expected_free);
  // Only the old data clusters are discarded, whole.
  for (size_t i = 0; i < plan.discard_count; i++) {
    INSTAR_FUZZ_CHECK(plan.discards[i].length == cluster_size);
    INSTAR_FUZZ_CHECK(freed.count(plan.discards[i].offset >> layout.cluster_bits) == 1);
    discarded.insert(plan.discards[i].offset);
  }
  INSTAR_FUZZ_CHECK(discarded == expected_discards);

  // Writes: the directory in place first, copies and tables into new clusters, the new directory last.
  INSTAR_FUZZ_CHECK(plan.write_count == 2 + loaded + copies);
  const BitmapWrite& first = plan.writes[0];
  INSTAR_FUZZ_CHECK(first.offset == layout.directory_offset && first.length == layout.directory_size &&
                    first.bytes != nullptr);
  const BitmapWrite& last = plan.writes[plan.write_count - 1];
  INSTAR_FUZZ_CHECK(last.offset == plan.new_directory_offset && last.length == layout.directory_size);
  std::set<uint64_t> written;
  for (size_t i = 0; i < plan.write_count; i++) {
    const BitmapWrite& w = plan.writes[i];
    INSTAR_FUZZ_CHECK(w.offset + w.length <= plan.file_size);
    if (i == 0) continue;
    INSTAR_FUZZ_CHECK(w.offset % cluster_size == 0 && w.length != 0);
    for (uint64_t c = 0; c * cluster_size < w.length; c++) {
      uint64_t cluster = (w.offset >> layout.cluster_bits) + c;
      INSTAR_FUZZ_CHECK(allocated.count(cluster) == 1);
      INSTAR_FUZZ_CHECK(written.insert(cluster).second);
    }
    if (w.bytes == nullptr)
      INSTAR_FUZZ_CHECK(w.length == cluster_size && w.from % cluster_size == 0 && w.from != 0);
  }
  INSTAR_FUZZ_CHECK(written == allocated);
  INSTAR_FUZZ_CHECK(plan.file_size >= layout.file_size);

  // The directories read back: in place every bitmap in use; the new one keeps a bitmap in use as it
  // was and points the others at tables the plan wrote, in use no more.
  BitmapsExtension ext{static_cast<uint32_t>(count), layout.directory_size, layout.directory_offset};
  instar::Qcow2BitmapReader in_place(instar::ByteSpan(first.bytes, first.length), ext, cluster_size, 0);
  ext.directory_offset = plan.new_directory_offset;
  instar::Qcow2BitmapReader stored(instar::ByteSpan(last.bytes, last.length), ext, cluster_size, 0);
  for (size_t i = 0; i < count; i++) {
    instar::Qcow2Bitmap a{}, b{};
    auto ra = in_place.next(a);
    auto rb = stored.next(b);
    if (ra.is_error() || rb.is_error()) return 0;  // constraints the planner does not own (granularity, size)
    INSTAR_FUZZ_CHECK(ra.value() && rb.value());
    INSTAR_FUZZ_CHECK((a.flags & kQcow2BitmapInUse) != 0 && a.table_offset == bitmaps[i].table_offset);
    if ((bitmaps[i].flags & kQcow2BitmapInUse) != 0) {
      INSTAR_FUZZ_CHECK(b.flags == bitmaps[i].flags && b.table_offset == bitmaps[i].table_offset);
    } else {
      INSTAR_FUZZ_CHECK(b.flags == bitmaps[i].flags &&
                        allocated.count(b.table_offset >> layout.cluster_bits) == 1);
    }
  }
  return 0;
}
