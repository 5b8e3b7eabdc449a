// refcount_check_rebuild.cc: -r all's rebuild of the refcount structure
// (qemu's rebuild_refcount_structure), the recount over it and the repair of
// the leaks the old structure leaves.
#include "core/qcow2/refcount_checker.h"

namespace instar::qcow2::check_internal {

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
  // qemu's rebuild of an image it marked corrupt during the check (an unaligned refcount block; the
  // corruption event disabled the image) writes the new structure to the file, but the repair of the
  // old structure's leaks after it only changes qemu's refcount cache, never written back (its punches
  // reach the file), and qemu-img's check again fails ("No medium found"). Measured with 7.2 and 10.0.
  const bool disabled = signaled_corruption_;
  repair_->rebuild = plan.value();
  repair_->has_rebuild = true;
  rebuilt_ = &repair_->rebuild;
  const CheckCounts first = res_;
  muted_ = true;
  res_.corruptions = 0;
  res_.leaks = 0;
  int e = recount_rebuilt();
  const CheckCounts recounted = res_;
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
  // qemu-img checks again only when something was repaired (then fails on the disabled image).
  if (disabled && recounted.corruptions >= first.corruptions && recounted.leaks >= first.leaks)
    return refuse(
        "a rebuild that repairs nothing on an image marked corrupt during the check is not supported by "
        "instar "
        "yet");
  // On the disabled image qemu's OFLAG_COPIED repair writes through its overlap check: not reproduced.
  if (disabled && (repair_->copied.span_count != 0 || l1_copied_count_ != 0 || l2_copied_count_ != 0))
    return refuse(
        "repairing OFLAG_COPIED after rebuilding an image marked corrupt during the check is not supported "
        "by "
        "instar yet");

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
  repair_->image_disabled = disabled;
  return 0;
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

}  // namespace instar::qcow2::check_internal
