// map.cc: qemu-img map: walk the chain's block status over the window, merge
// neighbouring extents as qemu-img does, and record them.
#include "core/ops/map.h"

#include "core/image/chain.h"
#include "core/ops/chain_open.h"
#include "core/ops/corruption_events.h"
#include "core/ops/info.h"
#include "core/ops/map_record.h"

namespace instar {

namespace {

struct Entry {
  uint64_t start = 0;
  uint64_t length = 0;
  uint64_t depth = 0;
  uint64_t flags = 0;
  bool has_offset = false;
  uint64_t offset = 0;
  uint8_t file = 0;
};

// qemu-img's entry_mergeable (the file is part of the comparison).
bool mergeable(const Entry& a, const Entry& b) {
  if (a.length == 0) return false;
  if (a.flags != b.flags || a.depth != b.depth || a.has_offset != b.has_offset) return false;
  if (a.has_offset && (a.file != b.file || a.offset + a.length != b.offset)) return false;
  return true;
}

// Extents are packed kMapEntriesPerField to a record field (map_record.h).
class EntryBatch {
 public:
  explicit EntryBatch(RecordWriter& out) : out_(out) {}

  void add(const Entry& e) {
    uint8_t* p = bytes_ + count_ * kMapEntryBytes;
    store_le64(p, e.start);
    store_le64(p + 8, e.length);
    store_le64(p + 16, e.has_offset ? e.offset : 0);
    p[24] = static_cast<uint8_t>(e.depth);
    p[25] = static_cast<uint8_t>(e.flags | (e.has_offset ? kMapOffsetValid : 0));
    p[26] = e.has_offset ? e.file : 0;
    if (++count_ == kMapEntriesPerField) flush();
  }

  void flush() {
    if (count_ == 0) return;
    out_.put_bytes(kMapEntries, ByteSpan(bytes_, count_ * kMapEntryBytes));
    count_ = 0;
  }

 private:
  static void store_le64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = static_cast<uint8_t>(v >> (8 * i));
  }

  RecordWriter& out_;
  uint8_t bytes_[kMapEntriesPerField * kMapEntryBytes];
  size_t count_ = 0;
};

static_assert(kMaxAttached < 255, "a layer's depth and a device number fit the entry's u8 fields");

}  // namespace

void run_map(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out) {
  image::Chain chain;
  CorruptionEventsOnExit events(out, chain);
  if (!open_chain_or_report(request, devices, scratch, chain, out)) return;
  uint64_t length = chain.top->size;
  const MapParams& p = request.map;
  if (p.has_max_length) {
    // qemu-img takes MIN(start + max_length, length) in int64_t, built with -fwrapv: a sum past INT64_MAX
    // wraps negative and leaves nothing to map (a single empty entry at the start).
    if (p.max_length > ~0ull - p.start || p.start + p.max_length > 0x7fffffffffffffffull) {
      length = 0;
    } else if (p.start + p.max_length < length) {
      length = p.start + p.max_length;
    }
  }
  EntryBatch batch(out);
  Entry curr;
  curr.start = p.start;
  while (curr.start + curr.length < length) {
    uint64_t offset = curr.start + curr.length;
    auto status = image::chain_status(*chain.top, offset, length - offset);
    if (status.is_error()) {
      // qemu-img drops the entry it was extending and stops.
      batch.flush();
      write_error(out, status.error());
      return;
    }
    const image::Status& s = status.value().status;
    Entry next;
    next.start = offset;
    next.length = s.length;
    next.depth = status.value().depth;
    next.flags = ((s.flags & image::kData) ? kMapData : 0) | ((s.flags & image::kZero) ? kMapZero : 0) |
                 ((s.flags & image::kAllocated) ? kMapPresent : 0) |
                 ((s.flags & image::kCompressed) ? kMapCompressed : 0);
    next.has_offset = (s.flags & image::kOffsetValid) != 0;
    next.offset = next.has_offset ? s.offset : 0;
    next.file = next.has_offset ? s.file : 0;
    if (mergeable(curr, next)) {
      curr.length += next.length;
      continue;
    }
    if (curr.length > 0) batch.add(curr);
    curr = next;
  }
  batch.add(curr);
  batch.flush();
}

}  // namespace instar
