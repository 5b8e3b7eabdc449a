// refcount_check_repair.cc: the in-place refcount repair decided after the
// first compare pass (qemu's qcow2_check_refcounts with BDRV_FIX_*), and -r
// all's truncation for a refcount block outside the image.
#include "core/qcow2/refcount_checker.h"

namespace instar::qcow2::check_internal {

// qemu's qcow2_check_refcounts after the first compare pass, when repairing.
// Everything is decided and planned before the logged second pass, so a
// repair instar refuses is refused before a "Repairing" line is printed.
int Checker::repair_refcounts(const CheckCounts& pre_compare, uint64_t& highest_cluster) {
  if (repair_->truncated_size != 0 && !rebuild_)
    return refuse(
        "repairing a refcount block outside the image without a rebuild is not supported by instar yet");
  if (rebuild_) {
    if ((fix_ & kFixErrors) != 0 && input_.snapshot_rewrite_length != 0)
      return refuse("rewriting the snapshot table after a refcount rebuild is not supported by instar yet");
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
  if ((fix_ & kFixErrors) != 0) {
    if (int e = plan_snapshot_move()) return e;
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
  const char* refused =
      "repairing a refcount block outside the image this way is not supported by instar yet";
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

}  // namespace instar::qcow2::check_internal
