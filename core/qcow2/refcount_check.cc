// refcount_check.cc: the qcow2 reference count check (qemu's
// qcow2_check_refcounts): the run, the lookups of stored refcounts and the
// comparison, with qemu's messages, counters and order. The steps live in
// refcount_check_*.cc (see refcount_checker.h).
#include "core/qcow2/refcount_check.h"

#include "core/qcow2/refcount_checker.h"

namespace instar::qcow2 {

namespace check_internal {

int Checker::run() {
  cluster_size_ = h_.cluster_size();
  file_length_ = image_.size();
  l2_entry_size_ = h_.extended_l2() ? 16 : 8;
  l2_entries_ = cluster_size_ / l2_entry_size_;
  refcount_max_ =
      h_.refcount_order >= 6 ? UINT64_MAX : (uint64_t{1} << (uint64_t{1} << h_.refcount_order)) - 1;
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
  if (repair_ != nullptr) repair_->counted = counts();
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

ClusterType Checker::cluster_type(uint64_t entry) const {
  if ((entry & kOflagCompressed) != 0) return ClusterType::compressed;
  if ((entry & kOflagZero) != 0 && !h_.extended_l2())
    return (entry & kL2OffsetMask) != 0 ? ClusterType::zero_alloc : ClusterType::zero_plain;
  if ((entry & kL2OffsetMask) == 0) {
    // With an external data file offset 0 is valid; the copied flag tells it from unallocated.
    return input_.has_data_file && (entry & kOflagCopied) != 0 ? ClusterType::normal
                                                               : ClusterType::unallocated;
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

bool Checker::fixed_refcount(uint64_t cluster, uint64_t& refcount) const {
  if (!fixes_applied_) return false;
  size_t low = 0, high = fix_count_;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    if (fixes_[mid].cluster < cluster)
      low = mid + 1;
    else
      high = mid;
  }
  if (low >= fix_count_ || fixes_[low].cluster != cluster) return false;
  refcount = fixes_[low].refcount;
  return true;
}

bool Checker::stored_refcount(uint64_t cluster, uint64_t& refcount) {
  if (rebuild_finished_) {
    refcount = rebuilt_->count_at(cluster);
    return true;
  }
  if (fixed_refcount(cluster, refcount)) return true;
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
      l.text(fixed != nullptr        ? "Repairing"
             : refcount1 < refcount2 ? "ERROR"
                                     : "Leaked")
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

}  // namespace check_internal

int check_refcounts(BlockDevice& image, const CheckInput& input, Arena& scratch, CheckLog& log,
                    CheckCounts& counts, RepairResult* repair) {
  PatchedImage patched(image);
  check_internal::Checker checker(patched, input, scratch, log, counts, repair);
  int result = checker.run();
  if (repair != nullptr) {
    repair->zeroed = patched.patches();
    repair->zeroed_count = patched.count();
  }
  return result;
}

}  // namespace instar::qcow2
