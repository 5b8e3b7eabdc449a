// refcount_check_walk.cc: qemu's calculate_refcounts and what it calls:
// every reference the header, the L1/L2 tables, the snapshots, the bitmaps
// and the refcount structure make, counted per host cluster with qemu's
// messages.
#include "core/qcow2/bitmap_directory.h"
#include "core/qcow2/refcount_checker.h"
#include "core/qcow2/snapshot_table.h"

namespace instar::qcow2::check_internal {

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

int Checker::inc_refcounts(uint64_t offset, uint64_t size) {
  if (static_cast<int64_t>(size) <= 0) return 0;
  // Measured: qemu flags offsets of 2^63 and more here too, so the distance past the end is unsigned.
  uint64_t end = offset + size;
  if (end > file_length_ && end - file_length_ >= cluster_size_) {
    Line l;
    l.text(
         "ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset "
         "0x")
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
          "Use qemu-img amend to increase the refcount entry width or qemu-img convert to create a clean "
          "copy "
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
          l.text("ERROR offset=")
              .hex(offset)
              .text(": Allocated cluster has corrupted subcluster allocation bitmap");
          log().line(l.span());
        }
        if ((offset & (cluster_size_ - 1)) != 0) {
          bool contains_data =
              h_.extended_l2() ? (bitmap & kL2BitmapAllAlloc) != 0 : (entry & kOflagZero) == 0;
          // -r all: qemu rewrites such an entry as a plain zero cluster at once (fix_l2_entry_by_zero)
          // and does not count the cluster; planned and validated before the line is logged.
          const bool zero_fix = !contains_data && (fix_ & kFixErrors) != 0;
          if (zero_fix) {
            if (int e = zero_unaligned_entry(l2_offset, i, bitmap, frag_info)) return e;
          }
          res_.corruptions++;
          Line l;
          l.text(zero_fix ? "Repairing" : "ERROR")
              .text(" offset=")
              .hex(offset)
              .text(contains_data ? ": Data cluster is not properly aligned; L2 entry corrupted."
                                  : ": Preallocated cluster is not properly aligned; L2 entry corrupted.");
          log().line(l.span());
          if (zero_fix) {
            res_.corruptions--;
            res_.corruptions_fixed++;
            continue;
          }
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

// qemu's fix_l2_entry_by_zero for entry `index` of the L2 table at `l2_offset`: the new entry is
// planned into the check's view of the image (later reads see it) once qemu's overlap check would let
// the write through. Snapshot tables (qemu's inactive L2 and L1 checks) are not reproduced.
int Checker::zero_unaligned_entry(uint64_t l2_offset, uint64_t index, uint64_t bitmap, bool active) {
  if (!active || h_.nb_snapshots != 0)
    return refuse(
        "rewriting an unaligned preallocated zero cluster in an image with snapshots is not supported by "
        "instar "
        "yet");
  L2EntryPatch patch = zeroed_l2_entry(l2_offset + index * l2_entry_size_, h_.extended_l2(), bitmap);
  ZeroFixLayout layout;
  layout.cluster_bits = h_.cluster_bits;
  layout.file_size = file_length_;
  layout.l1_offset = h_.l1_table_offset;
  layout.l1_bytes = uint64_t{h_.l1_size} * 8;
  layout.refcount_table_offset = h_.refcount_table_offset;
  layout.refcount_table_bytes = stored_.table_entries() * 8;
  layout.refcount_table = stored_.table();
  if (!zero_fix_allowed(layout, patch))
    return refuse(
        "rewriting an unaligned preallocated zero cluster over other metadata or outside the file is not "
        "supported by instar yet");
  if (patched_.add(patch, scratch_).is_error())
    return refuse("rewriting this many unaligned preallocated zero clusters is not supported by instar yet");
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
  reader.set_repair((fix_ & kFixErrors) != 0);  // as qemu read it: extra data cut, not refused
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

}  // namespace instar::qcow2::check_internal
