// snapshot_refcount_repair.cc: where -r all's rewritten snapshot table goes
// and the refcount changes that come with it (qemu's qcow2_write_snapshots
// after its refcount repair), planned and validated with the rest of the
// repair, before anything is logged or written.
#include "core/qcow2/refcount_checker.h"
#include "core/qcow2/snapshot_table_repair.h"

namespace instar::qcow2::check_internal {

namespace {

class RepairedRefcounts final : public RefcountProbe {
 public:
  explicit RepairedRefcounts(Checker& checker) : checker_(checker) {}
  bool refcount(uint64_t cluster, uint64_t& value) override;

 private:
  Checker& checker_;
};

}  // namespace

// The refcount after the planned refcount repair, without logging: false when it cannot be read.
bool Checker::repaired_refcount(uint64_t cluster, uint64_t& refcount) {
  if (fixed_refcount(cluster, refcount)) return true;
  uint64_t block = 0, index = 0;
  return stored_.get(cluster, refcount, block, index) == StoredRefcounts::Lookup::ok;
}

namespace {
bool RepairedRefcounts::refcount(uint64_t cluster, uint64_t& value) {
  return checker_.repaired_refcount(cluster, value);
}
}  // namespace

int Checker::plan_snapshot_move() {
  const uint64_t length = input_.snapshot_rewrite_length;
  if (length == 0) return 0;
  const char* refused = "rewriting the snapshot table there is not supported by instar yet";
  const uint64_t clusters = (length + cluster_size_ - 1) >> h_.cluster_bits;
  // qemu's allocator may pass over clusters with stale refcounts past the end of the file; a few
  // clusters beyond the file and the table are searched, no more.
  const uint64_t limit = nb_clusters_ + clusters + 64;
  RepairedRefcounts probe(*this);
  auto placed = place_snapshot_table(clusters, limit, probe);
  if (placed.is_error()) return refuse(refused);
  const uint64_t first = placed.value();
  const uint64_t offset = first << h_.cluster_bits;
  const uint64_t end = offset + length;
  // A free cluster is referenced by nothing (a referenced one with a stored 0 needs a rebuild) and so
  // holds no metadata; checked all the same.
  for (uint64_t k = first; k < first + clusters && k < nb_clusters_; k++)
    if (computed(k) != 0) return refuse(refused);
  if (ranges_overlap(offset, length, 0, cluster_size_) ||
      ranges_overlap(offset, length, h_.refcount_table_offset, stored_.table_entries() * 8) ||
      ranges_overlap(offset, length, h_.l1_table_offset, uint64_t{h_.l1_size} * 8) ||
      ranges_overlap(offset, length, h_.snapshots_offset, input_.snapshot_old_length))
    return refuse(refused);

  // The new table's clusters get refcount 1; the old table's lose one (qemu frees it whole,
  // snapshots_size bytes from its offset), punched where they drop to 0.
  const uint64_t old_first = h_.snapshots_offset >> h_.cluster_bits;
  const uint64_t old_clusters =
      input_.snapshot_old_length == 0
          ? 0
          : ((h_.snapshots_offset + input_.snapshot_old_length - 1) >> h_.cluster_bits) - old_first + 1;
  auto memory = scratch_.allocate_array<RefcountFix>(clusters + old_clusters);
  if (memory.is_error()) {
    res_.check_errors++;
    return kCheckEnomem;
  }
  RefcountFix* fixes = memory.value();
  size_t n = 0;
  auto add_old = [&]() -> bool {
    for (uint64_t k = old_first; k < old_first + old_clusters; k++) {
      uint64_t refcount = 0;
      if (!repaired_refcount(k, refcount) || refcount == 0) return false;
      fixes[n++] = RefcountFix{k, refcount - 1};
    }
    return true;
  };
  auto add_new = [&]() {
    for (uint64_t k = first; k < first + clusters; k++) fixes[n++] = RefcountFix{k, 1};
  };
  if (first < old_first) {
    add_new();
    if (!add_old()) return refuse(refused);
  } else {
    if (!add_old()) return refuse(refused);
    add_new();
  }
  ProtectedRange ranges[4] = {{0, cluster_size_},
                              {h_.refcount_table_offset, stored_.table_entries() * 8},
                              {h_.l1_table_offset, uint64_t{h_.l1_size} * 8},
                              {offset, length}};
  RepairLayout layout;
  layout.cluster_bits = h_.cluster_bits;
  layout.refcount_order = h_.refcount_order;
  layout.file_size = end > file_length_ ? end : file_length_;
  layout.refcount_table = stored_.table();
  layout.protected_ranges = ranges;
  layout.protected_count = 4;
  auto plan = plan_refcount_repair(layout, fixes, n, scratch_);
  if (plan.is_error()) return refuse(plan.error().message);
  repair_->has_snapshot_move = true;
  repair_->snapshot_table_offset = offset;
  repair_->snapshot_refcounts = plan.value();
  return 0;
}

}  // namespace instar::qcow2::check_internal
