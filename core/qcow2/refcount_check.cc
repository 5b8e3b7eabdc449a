// refcount_check.cc: the qcow2 reference count check (qemu's
// qcow2_check_refcounts and the functions it calls, without repair), with
// qemu's messages, counters and order.
#include "core/qcow2/refcount_check.h"

#include "core/base/checked.h"
#include "core/base/padded.h"
#include "core/base/span_reader.h"
#include "core/qcow2/bitmap_directory.h"
#include "core/qcow2/refcount_rebuild_plan.h"
#include "core/qcow2/refcount_table.h"
#include "core/qcow2/snapshot_table.h"

namespace instar::qcow2 {

namespace {

constexpr uint64_t kOflagCopied = 1ull << 63;
constexpr uint64_t kOflagCompressed = 1ull << 62;
constexpr uint64_t kOflagZero = 1ull;
constexpr uint64_t kL1OffsetMask = 0x00fffffffffffe00ull;
constexpr uint64_t kL1ReservedMask = 0x7f000000000001ffull;
constexpr uint64_t kL2OffsetMask = 0x00fffffffffffe00ull;
constexpr uint64_t kL2StdReservedMask = 0x3f000000000001feull;
constexpr uint64_t kL2BitmapAllAlloc = 0xffffffffull;
constexpr uint64_t kMaxL1Entries = (32ull << 20) / 8;  // QCOW_MAX_L1_SIZE / L1E_SIZE
constexpr uint64_t kIntMax = 0x7fffffff;
constexpr size_t kTableChunk = 64 * 1024;  // L1 and bitmap tables are streamed in chunks this size
constexpr uint8_t kFixLeaks = 1;   // BDRV_FIX_LEAKS
constexpr uint8_t kFixErrors = 2;  // BDRV_FIX_ERRORS

enum class ClusterType { unallocated, zero_plain, zero_alloc, normal, compressed };

// The OFLAG_COPIED check runs silently to count and then to collect what a repair changes, and once
// more to report (and, when repairing, account) what it finds as qemu prints it.
enum class CopiedPass : uint8_t { count, collect, report };

// One message line; numbers are printed as printf would.
class Line {
 public:
  Line& text(const char* s) {
    while (*s != '\0') put(static_cast<uint8_t>(*s++));
    return *this;
  }
  Line& bytes(ByteSpan s) {
    for (size_t i = 0; i < s.size; i++) put(s[i]);
    return *this;
  }
  Line& dec(uint64_t v) { return number(v, 10); }
  Line& sdec(int64_t v) {
    if (v < 0) {
      put('-');
      return number(0 - static_cast<uint64_t>(v), 10);
    }
    return number(static_cast<uint64_t>(v), 10);
  }
  Line& hex(uint64_t v) { return number(v, 16); }
  // printf's %#x: "0x" in front, except for zero.
  Line& alt_hex(uint64_t v) {
    if (v != 0) text("0x");
    return number(v, 16);
  }
  ByteSpan span() const { return ByteSpan(buf_, used_); }

 private:
  Line& number(uint64_t v, unsigned base) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v % base];
      v /= base;
    } while (v != 0);
    while (n > 0) put(static_cast<uint8_t>(digits[--n]));
    return *this;
  }
  void put(uint8_t c) {
    if (used_ < sizeof buf_) buf_[used_++] = c;
  }
  uint8_t buf_[2400];
  size_t used_ = 0;
};

const char* strerror_text(int error) {
  switch (error) {
    case kCheckEio:
      return "Input/output error";
    case kCheckEnomem:
      return "Cannot allocate memory";
    case kCheckEinval:
      return "Invalid argument";
    default:
      return "File too large";
  }
}

// Where the lines go while a repair is planned silently (they are logged once it is sure).
class MutedLog final : public CheckLog {
 public:
  void line(ByteSpan) override {}
  void error_line(ByteSpan) override {}
};

bool beyond_io_ceiling(uint64_t offset, uint64_t length) {
  return offset > kQemuMaxIoOffset || length > kQemuMaxIoOffset - offset;
}

class Checker {
 public:
  Checker(BlockDevice& image, const CheckInput& input, Arena& scratch, CheckLog& log, CheckCounts& counts,
          RepairResult* repair)
      : image_(image),
        h_(*input.header),
        input_(input),
        scratch_(scratch),
        log_(log),
        res_(counts),
        stored_(image, *input.header),
        repair_(repair),
        fix_(repair != nullptr ? input.repair : 0) {}

  int run();

 private:
  int inc_refcounts(uint64_t offset, uint64_t size);
  int check_l1(uint64_t l1_offset, uint64_t l1_size, bool frag_info);
  int check_l2(uint64_t l2_offset, bool frag_info);
  int check_snapshots();
  int check_bitmaps();
  int check_refblocks();
  void compare_refcounts(uint8_t fix, uint64_t& highest_cluster);
  int check_oflag_copied(CopiedPass pass, uint64_t& mismatches);
  int plan_copied_repair_now();
  int repair_refcounts(const CheckCounts& pre_compare, uint64_t& highest_cluster);
  int refuse(const char* what);
  int calculate();
  int allocate_counts(uint64_t capacity);
  int rebuild_structure(uint64_t& highest_cluster);
  int recount_rebuilt();
  int take_in_outside_block(uint64_t index, uint64_t offset);
  uint64_t table_entries() const { return rebuilt_ != nullptr ? rebuilt_->table_entries : stored_.table_entries(); }
  uint64_t table_entry(uint64_t i) const;
  uint64_t table_offset() const { return rebuilt_ != nullptr ? rebuilt_->table_offset : h_.refcount_table_offset; }
  CheckLog& log() { return muted_ ? static_cast<CheckLog&>(muted_log_) : log_; }
  ClusterCounts counts() const {
    ClusterCounts c;
    c.narrow = wide_ ? nullptr : refs16_;
    c.wide = wide_ ? refs32_ : nullptr;
    c.count = nb_clusters_;
    return c;
  }
  Result<void> collect_fixes();
  void protect(uint64_t offset, uint64_t length);

  ClusterType cluster_type(uint64_t entry) const;
  uint64_t l2_entry(uint64_t i) const {
    return load_be(l2_, static_cast<size_t>(i * l2_entry_size_), 8);
  }
  uint64_t l2_bitmap(uint64_t i) const {
    return h_.extended_l2() ? load_be(l2_, static_cast<size_t>(i * 16 + 8), 8) : 0;
  }
  uint64_t computed(uint64_t k) const { return wide_ ? refs32_[k] : refs16_[k]; }
  // false with the refcount unknown: the lookup failed (reported as qemu reports it).
  bool stored_refcount(uint64_t cluster, uint64_t& refcount);
  // An OFLAG_COPIED mismatch: repaired, qemu counts the corruption and takes it back at once.
  void count_copied_mismatch() {
    if (repair_copied_)
      res_.corruptions_fixed++;
    else
      res_.corruptions++;
  }
  void signal_corruption(const Line& message);

  BlockDevice& image_;
  const Header& h_;
  const CheckInput& input_;
  Arena& scratch_;
  CheckLog& log_;
  CheckCounts& res_;
  StoredRefcounts stored_;

  uint64_t cluster_size_ = 0;
  uint64_t file_length_ = 0;
  uint64_t refcount_max_ = 0;
  uint64_t nb_clusters_ = 0;  // grows by one when a reference reaches into the cluster past the end
  uint64_t capacity_ = 0;     // entries allocated
  bool wide_ = false;
  uint16_t* refs16_ = nullptr;
  uint32_t* refs32_ = nullptr;
  uint64_t l2_entry_size_ = 8;
  uint64_t l2_entries_ = 0;
  ByteSpan l2_;
  uint8_t* l2_buffer_ = nullptr;
  uint8_t* chunk_ = nullptr;
  bool signaled_corruption_ = false;

  RepairResult* repair_;
  uint8_t fix_;
  MutedLog muted_log_;
  bool muted_ = false;
  // -r all rebuild: the new structure, which the recount walks instead of the stored table; once
  // finished, stored refcounts are the plan's.
  const RebuildPlan* rebuilt_ = nullptr;
  bool rebuild_finished_ = false;
  uint16_t* recount16_ = nullptr;  // the recount's counters (the first count's stay for the planner)
  uint32_t* recount32_ = nullptr;
  bool rebuild_ = false;  // qemu's *rebuild: only a new refcount structure would fix the image
  // The refcounts the repair will store, by cluster: lookups see them once planned.
  RefcountFix* fixes_ = nullptr;
  size_t fix_count_ = 0;
  bool fixes_applied_ = false;
  ProtectedRange protected_[4];
  size_t protected_count_ = 0;
  // OFLAG_COPIED: whether qemu repairs it, and the entries it changes (counted, then collected).
  bool repair_copied_ = false;
  L1CopiedFix* l1_copied_ = nullptr;
  size_t l1_copied_count_ = 0;
  L2CopiedFix* l2_copied_ = nullptr;
  size_t l2_copied_count_ = 0;
};

ClusterType Checker::cluster_type(uint64_t entry) const {
  if ((entry & kOflagCompressed) != 0) return ClusterType::compressed;
  if ((entry & kOflagZero) != 0 && !h_.extended_l2())
    return (entry & kL2OffsetMask) != 0 ? ClusterType::zero_alloc : ClusterType::zero_plain;
  if ((entry & kL2OffsetMask) == 0) {
    // With an external data file offset 0 is valid; the copied flag tells it from unallocated.
    return input_.has_data_file && (entry & kOflagCopied) != 0 ? ClusterType::normal : ClusterType::unallocated;
  }
  return ClusterType::normal;
}

void Checker::signal_corruption(const Line& message) {
  if (signaled_corruption_) return;
  signaled_corruption_ = true;
  Line l;
  if (fix_ != 0) {
    // -r opens the image read-write: qemu marks it corrupt (sets the header's corrupt bit at once)
    // and the check goes on to need a rebuild, which -r leaks does not do and -r all tries.
    repair_->mark_corrupt = true;
    l.text("qcow2: Marking image as corrupt: ")
        .bytes(message.span())
        .text("; further corruption events will be suppressed");
  } else {
    // Read-only: qemu reports it once as non-fatal.
    l.text("qcow2: Image is corrupt: ")
        .bytes(message.span())
        .text("; further non-fatal corruption events will be suppressed");
  }
  log().line(l.span());
}

bool Checker::stored_refcount(uint64_t cluster, uint64_t& refcount) {
  if (rebuild_finished_) {
    refcount = rebuilt_->count_at(cluster);
    return true;
  }
  if (fixes_applied_) {
    size_t low = 0, high = fix_count_;
    while (low < high) {
      size_t mid = low + (high - low) / 2;
      if (fixes_[mid].cluster < cluster)
        low = mid + 1;
      else
        high = mid;
    }
    if (low < fix_count_ && fixes_[low].cluster == cluster) {
      refcount = fixes_[low].refcount;
      return true;
    }
  }
  uint64_t block = 0, index = 0;
  switch (stored_.get(cluster, refcount, block, index)) {
    case StoredRefcounts::Lookup::ok:
      return true;
    case StoredRefcounts::Lookup::unaligned: {
      Line m;
      m.text("Refblock offset ").alt_hex(block).text(" unaligned (reftable index: ").alt_hex(index).text(")");
      signal_corruption(m);
      return false;
    }
    case StoredRefcounts::Lookup::io_error:
      return false;
  }
  return false;
}

int Checker::inc_refcounts(uint64_t offset, uint64_t size) {
  if (static_cast<int64_t>(size) <= 0) return 0;
  // Measured: qemu flags offsets of 2^63 and more here too, so the distance past the end is unsigned.
  uint64_t end = offset + size;
  if (end > file_length_ && end - file_length_ >= cluster_size_) {
    Line l;
    l.text("ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset 0x")
        .hex(offset)
        .text(" size 0x")
        .hex(size);
    log().line(l.span());
    res_.corruptions++;
    return 0;
  }
  uint64_t start = offset & ~(cluster_size_ - 1);
  uint64_t last = (offset + size - 1) & ~(cluster_size_ - 1);
  for (uint64_t c = start;; c += cluster_size_) {
    uint64_t k = c >> h_.cluster_bits;
    if (k >= nb_clusters_) {
      // qemu grows its array; past the one spare entry the growth it would attempt cannot succeed.
      if (k >= capacity_) {
        res_.check_errors++;
        return kCheckEnomem;
      }
      nb_clusters_ = k + 1;
    }
    uint64_t refcount = computed(k);
    if (refcount == refcount_max_) {
      Line l;
      l.text("ERROR: overflow cluster offset=0x").hex(c);
      log().line(l.span());
      Line hint;
      hint.text(
          "Use qemu-img amend to increase the refcount entry width or qemu-img convert to create a clean copy "
          "if the image cannot be opened for writing");
      log().line(hint.span());
      res_.corruptions++;
    } else if (wide_) {
      // A 64-bit width keeps counting in 32 bits: more references than that cannot be made in time.
      if (refs32_[k] != UINT32_MAX) refs32_[k]++;
    } else {
      refs16_[k]++;
    }
    if (c >= last) break;
  }
  return 0;
}

int Checker::check_l2(uint64_t l2_offset, bool frag_info) {
  if (beyond_io_ceiling(l2_offset, cluster_size_)) {
    Line l;
    l.text("ERROR: I/O error in check_refcounts_l2");
    log().line(l.span());
    res_.check_errors++;
    return kCheckEio;
  }
  if (read_zero_padded(image_, l2_offset, l2_buffer_, static_cast<size_t>(cluster_size_)).is_error()) {
    Line l;
    l.text("ERROR: I/O error in check_refcounts_l2");
    log().line(l.span());
    res_.check_errors++;
    return kCheckEio;
  }
  uint64_t next_contiguous_offset = 0;
  uint32_t csize_shift = 62 - (h_.cluster_bits - 8);
  uint64_t csize_mask = (uint64_t{1} << (h_.cluster_bits - 8)) - 1;
  uint64_t cluster_offset_mask = (uint64_t{1} << csize_shift) - 1;
  for (uint64_t i = 0; i < l2_entries_; i++) {
    uint64_t entry = l2_entry(i);
    uint64_t bitmap = l2_bitmap(i);
    ClusterType type = cluster_type(entry);
    if (type != ClusterType::compressed && (entry & kL2StdReservedMask) != 0) {
      Line l;
      l.text("ERROR found l2 entry with reserved bits set: ").hex(entry);
      log().line(l.span());
      res_.corruptions++;
    }
    switch (type) {
      case ClusterType::compressed: {
        if ((entry & kOflagCopied) != 0) {
          Line l;
          l.text("ERROR: coffset=0x")
              .hex(entry & cluster_offset_mask)
              .text(": copied flag must never be set for compressed clusters");
          log().line(l.span());
          entry &= ~kOflagCopied;
          res_.corruptions++;
        }
        if (input_.has_data_file) {
          Line l;
          l.text("ERROR compressed cluster ").dec(i).text(" with data file, entry=0x").hex(entry);
          log().line(l.span());
          res_.corruptions++;
          break;
        }
        if (bitmap != 0) {
          Line l;
          l.text("ERROR compressed cluster ")
              .dec(i)
              .text(" with non-zero subcluster allocation bitmap, entry=0x")
              .hex(entry);
          log().line(l.span());
          res_.corruptions++;
          break;
        }
        // The compressed data spans whole 512-byte sectors from the sector holding its first byte.
        uint64_t coffset = entry & cluster_offset_mask;
        uint64_t sectors = ((entry >> csize_shift) & csize_mask) + 1;
        uint64_t csize = sectors * 512 - (coffset & 511);
        if (int e = inc_refcounts(coffset, csize)) return e;
        if (frag_info) {
          res_.allocated_clusters++;
          res_.compressed_clusters++;
          res_.fragmented_clusters++;
        }
        break;
      }
      case ClusterType::zero_alloc:
      case ClusterType::normal: {
        uint64_t offset = entry & kL2OffsetMask;
        if (((bitmap >> 32) & bitmap) != 0) {
          res_.corruptions++;
          Line l;
          l.text("ERROR offset=").hex(offset).text(": Allocated cluster has corrupted subcluster allocation bitmap");
          log().line(l.span());
        }
        if ((offset & (cluster_size_ - 1)) != 0) {
          bool contains_data =
              h_.extended_l2() ? (bitmap & kL2BitmapAllAlloc) != 0 : (entry & kOflagZero) == 0;
          // -r all: qemu rewrites such an entry as a plain zero cluster ("Repairing offset=...").
          if (!contains_data && (fix_ & kFixErrors) != 0)
            return refuse("repairing an unaligned preallocated zero cluster is not supported by instar yet");
          res_.corruptions++;
          Line l;
          l.text("ERROR offset=")
              .hex(offset)
              .text(contains_data ? ": Data cluster is not properly aligned; L2 entry corrupted."
                                  : ": Preallocated cluster is not properly aligned; L2 entry corrupted.");
          log().line(l.span());
        }
        if (frag_info) {
          res_.allocated_clusters++;
          if (next_contiguous_offset != 0 && offset != next_contiguous_offset) res_.fragmented_clusters++;
          next_contiguous_offset = offset + cluster_size_;
        }
        if (!input_.has_data_file) {
          if (int e = inc_refcounts(offset, cluster_size_)) return e;
        }
        break;
      }
      case ClusterType::zero_plain:
        break;
      case ClusterType::unallocated:
        if ((bitmap & kL2BitmapAllAlloc) != 0) {
          res_.corruptions++;
          Line l;
          l.text("ERROR: Unallocated cluster has non-zero subcluster allocation map");
          log().line(l.span());
        }
        break;
    }
  }
  return 0;
}

int Checker::check_l1(uint64_t l1_offset, uint64_t l1_size, bool frag_info) {
  if (l1_size == 0) return 0;
  uint64_t l1_bytes = l1_size * 8;
  if (int e = inc_refcounts(l1_offset, l1_bytes)) return e;
  // qemu reads the whole table before it looks at any entry.
  if (beyond_io_ceiling(l1_offset, l1_bytes)) {
    Line l;
    l.text("ERROR: I/O error in check_refcounts_l1");
    log().line(l.span());
    res_.check_errors++;
    return kCheckEio;
  }
  for (uint64_t done = 0; done < l1_bytes; done += kTableChunk) {
    size_t n = static_cast<size_t>(l1_bytes - done < kTableChunk ? l1_bytes - done : kTableChunk);
    if (read_zero_padded(image_, l1_offset + done, chunk_, n).is_error()) {
      Line l;
      l.text("ERROR: I/O error in check_refcounts_l1");
      log().line(l.span());
      res_.check_errors++;
      return kCheckEio;
    }
    // The L2 checks reuse no chunk memory, so the chunk stays valid across them.
    ByteSpan chunk(chunk_, n);
    for (size_t at = 0; at + 8 <= n; at += 8) {
      uint64_t entry = load_be(chunk, at, 8);
      if (entry == 0) continue;
      if ((entry & kL1ReservedMask) != 0) {
        Line l;
        l.text("ERROR found L1 entry with reserved bits set: ").hex(entry);
        log().line(l.span());
        res_.corruptions++;
      }
      uint64_t l2_offset = entry & kL1OffsetMask;
      if (int e = inc_refcounts(l2_offset, cluster_size_)) return e;
      if ((l2_offset & (cluster_size_ - 1)) != 0) {
        Line l;
        l.text("ERROR l2_offset=").hex(l2_offset).text(": Table is not cluster aligned; L1 entry corrupted");
        log().line(l.span());
        res_.corruptions++;
      }
      if (int e = check_l2(l2_offset, frag_info)) return e;
    }
  }
  return 0;
}

int Checker::check_snapshots() {
  uint32_t count = h_.nb_snapshots;
  if (input_.has_data_file && count != 0) {
    Line l;
    l.text("ERROR ").dec(count).text(" snapshots in image with data file");
    log().line(l.span());
    res_.corruptions++;
  }
  Qcow2SnapshotReader reader(input_.snapshot_table, count, cluster_size_, h_.snapshots_offset);
  Qcow2Snapshot s;
  for (;;) {
    auto more = reader.next(s);
    if (more.is_error() || !more.value()) break;  // read in check mode before the refcounts
    if ((s.l1_table_offset & (cluster_size_ - 1)) != 0) {
      Line l;
      l.text("ERROR snapshot ")
          .bytes(s.id)
          .text(" (")
          .bytes(s.name)
          .text(") l1_offset=")
          .alt_hex(s.l1_table_offset)
          .text(": L1 table is not cluster aligned; snapshot table entry corrupted");
      log().line(l.span());
      res_.corruptions++;
      continue;
    }
    if (s.l1_size > kMaxL1Entries) {
      Line l;
      l.text("ERROR snapshot ")
          .bytes(s.id)
          .text(" (")
          .bytes(s.name)
          .text(") l1_size=")
          .alt_hex(s.l1_size)
          .text(": L1 table is too large; snapshot table entry corrupted");
      log().line(l.span());
      res_.corruptions++;
      continue;
    }
    if (int e = check_l1(s.l1_table_offset, s.l1_size, false)) return e;
  }
  if (count != 0) {
    if (int e = inc_refcounts(h_.snapshots_offset, reader.table_length())) return e;
  }
  return 0;
}

int Checker::check_bitmaps() {
  const Extensions& ext = *input_.ext;
  if (!ext.has_bitmaps || ext.bitmaps.nb_bitmaps == 0) return 0;
  if (int e = inc_refcounts(ext.bitmaps.directory_offset, ext.bitmaps.directory_size)) return e;
  // The directory passed qemu's checks when the image was opened; read it again as qemu does.
  uint64_t size = image_.size();
  uint64_t at = ext.bitmaps.directory_offset;
  uint64_t available = at < size ? size - at : 0;
  if (available > ext.bitmaps.directory_size) available = ext.bitmaps.directory_size;
  auto buffer = scratch_.allocate(static_cast<size_t>(available));
  if (buffer.is_error()) {
    res_.check_errors++;
    return kCheckEnomem;
  }
  if (available > 0 && image_.read(at, buffer.value(), static_cast<size_t>(available)).is_error()) {
    res_.corruptions++;
    return kCheckEinval;
  }
  ByteSpan dir(buffer.value(), static_cast<size_t>(available));
  uint64_t disk_size = h_.size / 512 * 512;
  if (Qcow2BitmapReader(dir, ext.bitmaps, cluster_size_, disk_size).validate().is_error()) {
    res_.corruptions++;
    return kCheckEinval;
  }
  Qcow2BitmapReader reader(dir, ext.bitmaps, cluster_size_, disk_size);
  Qcow2Bitmap b;
  for (;;) {
    auto more = reader.next(b);
    if (more.is_error() || !more.value()) break;
    uint64_t table_bytes = uint64_t{b.table_size} * 8;
    if (int e = inc_refcounts(b.table_offset, table_bytes)) return e;
    if (b.table_size == 0) continue;
    if (beyond_io_ceiling(b.table_offset, table_bytes)) {
      res_.corruptions++;
      return kCheckEio;
    }
    // qemu loads the whole table first and refuses it if any entry is invalid.
    for (uint64_t done = 0; done < table_bytes; done += kTableChunk) {
      size_t n = static_cast<size_t>(table_bytes - done < kTableChunk ? table_bytes - done : kTableChunk);
      if (read_zero_padded(image_, b.table_offset + done, chunk_, n).is_error()) {
        res_.corruptions++;
        return kCheckEio;
      }
      for (size_t p = 0; p + 8 <= n; p += 8) {
        if (!qcow2_bitmap_table_entry_valid(load_be(ByteSpan(chunk_, n), p, 8), cluster_size_)) {
          res_.corruptions++;
          return kCheckEinval;
        }
      }
    }
    for (uint64_t done = 0; done < table_bytes; done += kTableChunk) {
      size_t n = static_cast<size_t>(table_bytes - done < kTableChunk ? table_bytes - done : kTableChunk);
      if (read_zero_padded(image_, b.table_offset + done, chunk_, n).is_error()) {
        res_.corruptions++;
        return kCheckEio;
      }
      for (size_t p = 0; p + 8 <= n; p += 8) {
        uint64_t offset = load_be(ByteSpan(chunk_, n), p, 8) & 0x00fffffffffffe00ull;
        if (offset == 0) continue;
        if (int e = inc_refcounts(offset, cluster_size_)) return e;
      }
    }
  }
  return 0;
}

int Checker::check_refblocks() {
  for (uint64_t i = 0; i < table_entries(); i++) {
    uint64_t raw = table_entry(i);
    uint64_t offset = raw & kRefTableOffsetMask;
    uint64_t cluster = offset >> h_.cluster_bits;
    if ((raw & kRefTableReservedMask) != 0) {
      Line l;
      l.text("ERROR refcount table entry ").dec(i).text(" has reserved bits set");
      log().line(l.span());
      res_.corruptions++;
      rebuild_ = true;
      continue;
    }
    if ((offset & (cluster_size_ - 1)) != 0) {
      Line l;
      l.text("ERROR refcount block ").dec(i).text(" is not cluster aligned; refcount table entry corrupted");
      log().line(l.span());
      res_.corruptions++;
      rebuild_ = true;
      continue;
    }
    if (cluster >= nb_clusters_) {
      if ((fix_ & kFixErrors) != 0) {
        if (int e = take_in_outside_block(i, offset)) return e;
        continue;
      }
      res_.corruptions++;
      Line l;
      l.text("ERROR refcount block ").dec(i).text(" is outside image");
      log().line(l.span());
      continue;
    }
    if (offset != 0) {
      if (int e = inc_refcounts(offset, cluster_size_)) return e;
      uint64_t refcount = computed(cluster);
      if (refcount != 1) {
        Line l;
        l.text("ERROR refcount block ").dec(i).text(" refcount=").dec(refcount);
        log().line(l.span());
        res_.corruptions++;
        rebuild_ = true;
      }
    }
  }
  return 0;
}

void Checker::compare_refcounts(uint8_t fix, uint64_t& highest_cluster) {
  highest_cluster = 0;
  for (uint64_t i = 0; i < nb_clusters_; i++) {
    uint64_t refcount1 = 0;
    if (!stored_refcount(i, refcount1)) {
      Line l;
      l.text("Can't get refcount for cluster ").dec(i).text(": ").text(strerror_text(kCheckEio));
      log().line(l.span());
      res_.check_errors++;
      continue;
    }
    uint64_t refcount2 = computed(i);
    if (refcount1 > 0 || refcount2 > 0) highest_cluster = i;
    if (refcount1 != refcount2) {
      // What qemu may fix in place; a stored 0 needs a rebuild (the cluster may lack a refcount block).
      uint64_t* fixed = nullptr;
      if (refcount1 == 0)
        rebuild_ = true;
      else if (refcount1 > refcount2 && (fix & kFixLeaks) != 0)
        fixed = &res_.leaks_fixed;
      else if (refcount1 < refcount2 && (fix & kFixErrors) != 0)
        fixed = &res_.corruptions_fixed;
      Line l;
      l.text(fixed != nullptr ? "Repairing" : refcount1 < refcount2 ? "ERROR" : "Leaked")
          .text(" cluster ")
          .dec(i)
          .text(" refcount=")
          .dec(refcount1)
          .text(" reference=")
          .dec(refcount2);
      log().line(l.span());
      if (fixed != nullptr)
        (*fixed)++;  // planned and validated before this pass: the write cannot be refused later
      else if (refcount1 < refcount2)
        res_.corruptions++;
      else
        res_.leaks++;
    }
  }
}

int Checker::check_oflag_copied(CopiedPass pass, uint64_t& mismatches) {
  mismatches = 0;
  const bool dry_run = pass != CopiedPass::report;
  size_t l1_found = 0, l2_found = 0;
  // qemu uses the L1 table it read when it opened the image: the same bytes.
  uint64_t l1_bytes = uint64_t{h_.l1_size} * 8;
  for (uint64_t done = 0; done < l1_bytes; done += kTableChunk) {
    size_t n = static_cast<size_t>(l1_bytes - done < kTableChunk ? l1_bytes - done : kTableChunk);
    if (read_zero_padded(image_, h_.l1_table_offset + done, chunk_, n).is_error()) return kCheckEio;
    ByteSpan chunk(chunk_, n);
    for (size_t at = 0; at + 8 <= n; at += 8) {
      uint64_t l1_index = (done + at) / 8;
      uint64_t l1_entry = load_be(chunk, at, 8);
      uint64_t l2_offset = l1_entry & kL1OffsetMask;
      if (l2_offset == 0) continue;
      uint64_t refcount = 0;
      if (!stored_refcount(l2_offset >> h_.cluster_bits, refcount)) continue;
      if ((refcount == 1) != ((l1_entry & kOflagCopied) != 0)) {
        mismatches++;
        if (pass == CopiedPass::collect && l1_found < l1_copied_count_)
          l1_copied_[l1_found] = L1CopiedFix{l1_index, refcount == 1};
        l1_found++;
        if (!dry_run) {
          count_copied_mismatch();
          Line l;
          l.text(repair_copied_ ? "Repairing" : "ERROR")
              .text(" OFLAG_COPIED L2 cluster: l1_index=")
              .dec(l1_index)
              .text(" l1_entry=")
              .hex(l1_entry)
              .text(" refcount=")
              .dec(refcount);
          log().line(l.span());
        }
      }
      if (read_zero_padded(image_, l2_offset, l2_buffer_, static_cast<size_t>(cluster_size_)).is_error()) {
        if (dry_run) return kCheckEio;
        Line l;
        l.text("ERROR: Could not read L2 table: ").text(strerror_text(kCheckEio));
        log().line(l.span());
        res_.check_errors++;
        return kCheckEio;
      }
      for (uint64_t j = 0; j < l2_entries_; j++) {
        uint64_t entry = l2_entry(j);
        ClusterType type = cluster_type(entry);
        if (type != ClusterType::normal && type != ClusterType::zero_alloc) continue;
        uint64_t data_refcount = 1;
        if (!input_.has_data_file) {
          if (!stored_refcount((entry & kL2OffsetMask) >> h_.cluster_bits, data_refcount)) continue;
        }
        if ((data_refcount == 1) != ((entry & kOflagCopied) != 0)) {
          mismatches++;
          if (pass == CopiedPass::collect && l2_found < l2_copied_count_)
            l2_copied_[l2_found] = L2CopiedFix{l1_index, j, data_refcount == 1};
          l2_found++;
          if (dry_run) continue;
          count_copied_mismatch();
          Line l;
          l.text(repair_copied_ ? "Repairing" : "ERROR")
              .text(" OFLAG_COPIED data cluster: l2_entry=")
              .hex(entry)
              .text(" refcount=")
              .dec(data_refcount);
          log().line(l.span());
        }
      }
    }
  }
  if (pass == CopiedPass::count) {
    l1_copied_count_ = l1_found;
    l2_copied_count_ = l2_found;
  } else if (pass == CopiedPass::collect && (l1_found != l1_copied_count_ || l2_found != l2_copied_count_)) {
    return kCheckEio;  // the image changed under the check
  }
  return 0;
}

// The OFLAG_COPIED repair, planned against the repaired refcounts and the refcount plan: counted,
// collected, validated. A repair the planner cannot do in place is refused.
int Checker::plan_copied_repair_now() {
  uint64_t mismatches = 0;
  if (int e = check_oflag_copied(CopiedPass::count, mismatches)) return e;
  if (mismatches == 0) return 0;
  uint64_t l1_bytes = uint64_t{h_.l1_size} * 8;
  auto l1_memory = scratch_.allocate(static_cast<size_t>(l1_copied_count_ * sizeof(L1CopiedFix)));
  auto l2_memory = scratch_.allocate(static_cast<size_t>(l2_copied_count_ * sizeof(L2CopiedFix)));
  auto l1_table = scratch_.allocate(static_cast<size_t>(l1_bytes));
  if (l1_memory.is_error() || l2_memory.is_error() || l1_table.is_error()) {
    res_.check_errors++;
    return kCheckEnomem;
  }
  l1_copied_ = reinterpret_cast<L1CopiedFix*>(l1_memory.value());
  l2_copied_ = reinterpret_cast<L2CopiedFix*>(l2_memory.value());
  if (int e = check_oflag_copied(CopiedPass::collect, mismatches)) return e;
  auto read = read_zero_padded(image_, h_.l1_table_offset, l1_table.value(), static_cast<size_t>(l1_bytes));
  if (read.is_error()) return kCheckEio;
  ProtectedRange ranges[3];
  size_t range_count = 0;
  ranges[range_count++] = ProtectedRange{0, cluster_size_};
  ranges[range_count++] = ProtectedRange{h_.refcount_table_offset, stored_.table_entries() * 8};
  if (h_.nb_snapshots != 0)
    ranges[range_count++] = ProtectedRange{h_.snapshots_offset, input_.snapshot_table.size};
  CopiedLayout layout;
  layout.cluster_bits = h_.cluster_bits;
  layout.extended_l2 = h_.extended_l2();
  layout.file_size = file_length_;
  layout.l1_table_offset = h_.l1_table_offset;
  layout.l1_table = ByteSpan(l1_table.value(), static_cast<size_t>(l1_bytes));
  layout.protected_ranges = ranges;
  layout.protected_count = range_count;
  layout.refcount_plan = &repair_->plan;
  auto plan =
      plan_copied_repair(layout, l1_copied_, l1_copied_count_, l2_copied_, l2_copied_count_, scratch_);
  if (plan.is_error()) return refuse(plan.error().message);
  repair_->copied = plan.value();
  return 0;
}

int Checker::run() {
  cluster_size_ = h_.cluster_size();
  file_length_ = image_.size();
  l2_entry_size_ = h_.extended_l2() ? 16 : 8;
  l2_entries_ = cluster_size_ / l2_entry_size_;
  refcount_max_ = h_.refcount_order >= 6 ? UINT64_MAX : (uint64_t{1} << (uint64_t{1} << h_.refcount_order)) - 1;
  wide_ = h_.refcount_order > 4;

  nb_clusters_ = file_length_ / cluster_size_ + (file_length_ % cluster_size_ != 0 ? 1 : 0);
  if (nb_clusters_ > kIntMax) {
    res_.check_errors++;
    return kCheckEfbig;
  }
  uint64_t disk_bytes = h_.size / 512 * 512;
  res_.total_clusters = disk_bytes / cluster_size_ + (disk_bytes % cluster_size_ != 0 ? 1 : 0);

  // One spare entry: a reference may reach into the cluster just past the end of the file.
  if (int e = allocate_counts(nb_clusters_ + 1)) return e;
  auto l2 = scratch_.allocate(static_cast<size_t>(cluster_size_));
  auto chunk = scratch_.allocate(kTableChunk);
  if (l2.is_error() || chunk.is_error() || stored_.load(scratch_).is_error()) {
    res_.check_errors++;
    return kCheckEnomem;
  }
  l2_buffer_ = l2.value();
  l2_ = ByteSpan(l2_buffer_, static_cast<size_t>(cluster_size_));
  chunk_ = chunk.value();

  if (int e = calculate()) return e;

  CheckCounts pre_compare = res_;
  uint64_t highest_cluster = 0;
  compare_refcounts(0, highest_cluster);
  if (fix_ != 0) {
    if (int e = repair_refcounts(pre_compare, highest_cluster)) return e;
  }
  uint64_t mismatches = 0;
  if (int e = check_oflag_copied(CopiedPass::report, mismatches)) return e;
  res_.image_end_offset = (highest_cluster + 1) * cluster_size_;
  return 0;
}

int Checker::allocate_counts(uint64_t capacity) {
  capacity_ = capacity;
  auto refs = scratch_.allocate(static_cast<size_t>(capacity_ * (wide_ ? 4 : 2)));
  if (refs.is_error()) {
    res_.check_errors++;
    return kCheckEnomem;
  }
  if (wide_) {
    refs32_ = reinterpret_cast<uint32_t*>(refs.value());
    for (uint64_t i = 0; i < capacity_; i++) refs32_[i] = 0;
  } else {
    refs16_ = reinterpret_cast<uint16_t*>(refs.value());
    for (uint64_t i = 0; i < capacity_; i++) refs16_[i] = 0;
  }
  return 0;
}

// qemu's calculate_refcounts: header, active L1/L2, snapshots, snapshot table,
// refcount table, encryption header, bitmaps, refcount blocks.
int Checker::calculate() {
  if (int e = inc_refcounts(0, cluster_size_)) return e;
  if (int e = check_l1(h_.l1_table_offset, h_.l1_size, true)) return e;
  if (int e = check_snapshots()) return e;
  if (int e = inc_refcounts(table_offset(), table_entries() * 8)) return e;
  const Extensions& ext = *input_.ext;
  if (ext.has_crypto_header && ext.crypto_header.length != 0) {
    if (int e = inc_refcounts(ext.crypto_header.offset, ext.crypto_header.length)) return e;
  }
  if (int e = check_bitmaps()) return e;
  return check_refblocks();
}

uint64_t Checker::table_entry(uint64_t i) const {
  if (rebuilt_ == nullptr) return stored_.table_entry(i);
  size_t low = 0, high = rebuilt_->block_count;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    if (rebuilt_->blocks[mid].index < i)
      low = mid + 1;
    else
      high = mid;
  }
  return low < rebuilt_->block_count && rebuilt_->blocks[low].index == i ? rebuilt_->blocks[low].offset : 0;
}

int Checker::refuse(const char* what) {
  repair_->refused = what;
  return kCheckRepairRefusedCode;
}

// The stored refcounts qemu's second compare pass would replace, in cluster
// order. Two passes: the first counts them, so memory is one entry per fix.
Result<void> Checker::collect_fixes() {
  for (int pass = 0; pass < 2; pass++) {
    size_t count = 0;
    for (uint64_t i = 0; i < nb_clusters_; i++) {
      uint64_t stored = 0, block = 0, index = 0;
      if (stored_.get(i, stored, block, index) != StoredRefcounts::Lookup::ok) continue;
      uint64_t counted = computed(i);
      bool leak = stored > counted && (fix_ & kFixLeaks) != 0;
      bool low = stored < counted && (fix_ & kFixErrors) != 0;
      if (stored == 0 || !(leak || low)) continue;
      if (pass == 1) fixes_[count] = RefcountFix{i, counted};
      count++;
    }
    if (pass == 0) {
      if (count == 0) return ok();
      INSTAR_TRY_ASSIGN(memory, scratch_.allocate_array<RefcountFix>(count));
      fixes_ = memory;
    }
    fix_count_ = count;
  }
  return ok();
}

void Checker::protect(uint64_t offset, uint64_t length) {
  if (protected_count_ < sizeof protected_ / sizeof protected_[0] && length != 0)
    protected_[protected_count_++] = ProtectedRange{offset, length};
}

// qemu's -r all on a refcount block beyond the end of the file: it truncates
// the file to end with that block (zeros: every refcount in it is 0), counts
// the block, and the refcounts it now reads need the rebuild.
int Checker::take_in_outside_block(uint64_t index, uint64_t offset) {
  Line l;
  l.text("Repairing refcount block ").dec(index).text(" is outside image");
  log().line(l.span());
  const char* refused = "repairing a refcount block outside the image this way is not supported by instar yet";
  if (offset > 0x7fffffffffffffffull - cluster_size_) {
    // qemu cannot truncate that far (EINVAL): the block stays uncounted and the rebuild follows.
    Line e;
    e.text("ERROR could not resize image: ").text(strerror_text(kCheckEinval));
    log().line(e.span());
    res_.corruptions++;
    rebuild_ = true;
    return 0;
  }
  uint64_t size = offset + cluster_size_;
  uint64_t clusters = size >> h_.cluster_bits;
  // Past 1 TiB the host's file system or qemu's allocation may refuse the truncation: not reproduced.
  if (input_.growth == nullptr || size > (uint64_t{1} << 40) || clusters > kIntMax) return refuse(refused);
  uint16_t* old16 = refs16_;
  uint32_t* old32 = refs32_;
  uint64_t old_count = nb_clusters_ + 1 < capacity_ ? nb_clusters_ + 1 : capacity_;
  if (allocate_counts(clusters + 1) != 0) {
    res_.check_errors--;
    return refuse(refused);
  }
  for (uint64_t k = 0; k < old_count; k++) {
    if (wide_)
      refs32_[k] = old32[k];
    else
      refs16_[k] = old16[k];
  }
  input_.growth->grow(size);
  repair_->truncated_size = size;
  file_length_ = size;
  nb_clusters_ = clusters;
  res_.corruptions_fixed++;
  return inc_refcounts(offset, cluster_size_);
}

// The references counted again over the rebuilt structure (qemu's
// calculate_refcounts after rebuild_refcount_structure): the file as the
// rebuild grows it, the new table and blocks in place of the old.
int Checker::recount_rebuilt() {
  file_length_ = rebuilt_->file_size;
  nb_clusters_ = rebuilt_->cluster_count;
  if (refs16_ == recount16_ && refs32_ == recount32_ && capacity_ == nb_clusters_ + 1) {
    for (uint64_t i = 0; i < capacity_; i++) {
      if (wide_)
        refs32_[i] = 0;
      else
        refs16_[i] = 0;
    }
  } else {
    if (int e = allocate_counts(nb_clusters_ + 1)) return e;
    recount16_ = refs16_;
    recount32_ = refs32_;
  }
  return calculate();
}

// qemu's -r all when only a new refcount structure fixes the image: its
// rebuild_refcount_structure, a recount, and the repair of the leaks the old
// structure leaves behind. All of it is planned and validated silently first
// (so a refused rebuild prints no line of it), then logged as qemu prints it.
int Checker::rebuild_structure(uint64_t& highest_cluster) {
  RebuildLayout layout;
  layout.cluster_bits = h_.cluster_bits;
  layout.refcount_order = h_.refcount_order;
  layout.file_size = file_length_;
  layout.old_table = stored_.table();
  const ClusterCounts original = counts();
  auto plan = plan_refcount_rebuild(layout, original, scratch_);
  if (plan.is_error()) return refuse(plan.error().message);
  if (plan.value().first_write_overlaps && repair_->truncated_size != 0)
    return refuse("a failing rebuild of a truncated file is not supported by instar yet");
  if (plan.value().first_write_overlaps) {
    // qemu's overlap check refuses its first write (a new block where a broken old table entry
    // points): the image is marked corrupt, if it was not yet, and nothing else is written.
    Line l;
    l.text("Rebuilding refcount structure");
    log().line(l.span());
    Line m;
    m.text("Preventing invalid write on metadata (overlaps with refcount block)");
    signal_corruption(m);
    Line e;
    e.text("ERROR writing refblock: ").text(strerror_text(kCheckEio));
    log().error_line(e.span());
    res_.check_errors++;
    return kCheckEio;
  }
  if (signaled_corruption_) {
    // qemu's rebuild of an image it has marked corrupt writes the new structure, but its leak and
    // OFLAG_COPIED repairs then fail on the disabled image, and its second check fails ("No medium
    // found"): not reproduced.
    return refuse(
        "rebuilding the refcount structure of an image marked corrupt during the check is not supported by instar "
        "yet");
  }
  repair_->rebuild = plan.value();
  repair_->has_rebuild = true;
  rebuilt_ = &repair_->rebuild;
  const CheckCounts first = res_;
  muted_ = true;
  int e = recount_rebuilt();
  muted_ = false;
  res_ = first;
  if (e != 0) return refuse("the recount after rebuilding the refcount structure failed");
  auto finished = finish_refcount_rebuild(repair_->rebuild, original, counts(), scratch_);
  if (finished.is_error()) return refuse(finished.error().message);
  rebuild_finished_ = true;
  repair_->plan.discards = rebuilt_->discards;
  repair_->plan.discard_count = rebuilt_->discard_count;
  repair_copied_ = true;
  if (int e2 = plan_copied_repair_now()) return e2;

  Line l;
  l.text("Rebuilding refcount structure");
  log().line(l.span());
  res_.corruptions = 0;
  res_.leaks = 0;
  if (int e2 = recount_rebuilt()) return e2;
  // The leaks the old structure left, lowered to the recount (qemu counts them in a result it drops).
  highest_cluster = 0;
  for (uint64_t k = 0; k < rebuilt_->cluster_count; k++)
    if (rebuilt_->count_at(k) != 0) highest_cluster = k;
  for (size_t i = 0; i < rebuilt_->lowered_count; i++) {
    const RefcountFix& f = rebuilt_->lowered[i];
    if (f.cluster > highest_cluster) highest_cluster = f.cluster;
    Line r;
    r.text("Repairing cluster ")
        .dec(f.cluster)
        .text(" refcount=")
        .dec(f.refcount)
        .text(" reference=")
        .dec(rebuilt_->count_at(f.cluster));
    log().line(r.span());
  }
  if (res_.corruptions < first.corruptions) res_.corruptions_fixed += first.corruptions - res_.corruptions;
  if (res_.leaks < first.leaks) res_.leaks_fixed += first.leaks - res_.leaks;
  return 0;
}

// qemu's qcow2_check_refcounts after the first compare pass, when repairing.
// Everything is decided and planned before the logged second pass, so a
// repair instar refuses is refused before a "Repairing" line is printed.
int Checker::repair_refcounts(const CheckCounts& pre_compare, uint64_t& highest_cluster) {
  if (repair_->truncated_size != 0 && !rebuild_)
    return refuse("repairing a refcount block outside the image without a rebuild is not supported by instar yet");
  if (rebuild_) {
    if ((fix_ & kFixErrors) != 0) return rebuild_structure(highest_cluster);
    Line l;
    l.text("ERROR need to rebuild refcount structures");
    log().line(l.span());
    res_.check_errors++;
    return kCheckEio;
  }
  bool second_pass = res_.leaks != 0 || res_.corruptions != 0;
  if (second_pass && collect_fixes().is_error()) {
    res_.check_errors++;
    return kCheckEnomem;
  }
  fixes_applied_ = fix_count_ != 0;
  if (fix_count_ != 0) {
    protect(0, cluster_size_);
    protect(h_.refcount_table_offset, stored_.table_entries() * 8);
    protect(h_.l1_table_offset, uint64_t{h_.l1_size} * 8);
    if (h_.nb_snapshots != 0) protect(h_.snapshots_offset, input_.snapshot_table.size);
    RepairLayout layout;
    layout.cluster_bits = h_.cluster_bits;
    layout.refcount_order = h_.refcount_order;
    layout.file_size = file_length_;
    layout.refcount_table = stored_.table();
    layout.protected_ranges = protected_;
    layout.protected_count = protected_count_;
    auto plan = plan_refcount_repair(layout, fixes_, fix_count_, scratch_);
    if (plan.is_error()) return refuse(plan.error().message);
    repair_->plan = plan.value();
  }
  // qemu rewrites the L1 and L2 entries whose OFLAG_COPIED disagrees with the repaired refcounts: always
  // with -r all; with -r leaks only when its repair leaves nothing else wrong (the refcounts are then
  // right). After the second pass the leaks are all fixed, and the errors and corruptions it leaves are
  // those of the first pass.
  repair_copied_ = (fix_ & kFixErrors) != 0 || (res_.check_errors == 0 && res_.corruptions == 0);
  if (repair_copied_) {
    if (int e = plan_copied_repair_now()) return e;
  }
  if (second_pass) {
    // qemu compares again, fixing as it goes, whenever the first pass found anything. That pass reads
    // the refcounts as stored; the OFLAG_COPIED check after it sees the repaired ones.
    fixes_applied_ = false;
    res_ = pre_compare;
    compare_refcounts(fix_, highest_cluster);
    fixes_applied_ = fix_count_ != 0;
  }
  return 0;
}

}  // namespace

int check_refcounts(BlockDevice& image, const CheckInput& input, Arena& scratch, CheckLog& log,
                    CheckCounts& counts, RepairResult* repair) {
  Checker checker(image, input, scratch, log, counts, repair);
  return checker.run();
}

}  // namespace instar::qcow2
