// refcount_check_copied.cc: the OFLAG_COPIED check (qemu's check_oflag_copied)
// and the planning of its repair.
#include "core/qcow2/refcount_checker.h"

namespace instar::qcow2::check_internal {

int Checker::check_oflag_copied(CopiedPass pass, uint64_t& mismatches) {
  mismatches = 0;
  const bool dry_run = pass != CopiedPass::report;
  size_t l1_found = 0, l2_found = 0;
  for (size_t s = 0; s < shared_l2_.count; s++) shared_seen_[s] = 0;
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
      // A repair writes a table several L1 entries name back on qemu's first visit; later visits re-read
      // it repaired and find nothing.
      if (repair_copied_) {
        size_t shared = shared_l2_.find(l2_offset);
        if (shared < shared_l2_.count) {
          if (shared_seen_[shared] != 0) continue;
          shared_seen_[shared] = 1;
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
  // The whole L1 table, and the L2 tables it names more than once (repaired on their first visit).
  uint64_t l1_bytes = uint64_t{h_.l1_size} * 8;
  auto l1_table = scratch_.allocate(static_cast<size_t>(l1_bytes));
  if (l1_table.is_error()) {
    res_.check_errors++;
    return kCheckEnomem;
  }
  auto read = read_zero_padded(image_, h_.l1_table_offset, l1_table.value(), static_cast<size_t>(l1_bytes));
  if (read.is_error()) return kCheckEio;
  auto shared = find_shared_l2_tables(ByteSpan(l1_table.value(), static_cast<size_t>(l1_bytes)), scratch_);
  auto seen = shared.is_ok() ? scratch_.allocate(shared.value().count + 1) : Result<uint8_t*>(shared.error());
  if (seen.is_error()) {
    res_.check_errors++;
    return kCheckEnomem;
  }
  shared_l2_ = shared.value();
  shared_seen_ = seen.value();
  uint64_t mismatches = 0;
  if (int e = check_oflag_copied(CopiedPass::count, mismatches)) return e;
  if (mismatches == 0) return 0;
  auto l1_memory = scratch_.allocate(static_cast<size_t>(l1_copied_count_ * sizeof(L1CopiedFix)));
  auto l2_memory = scratch_.allocate(static_cast<size_t>(l2_copied_count_ * sizeof(L2CopiedFix)));
  if (l1_memory.is_error() || l2_memory.is_error()) {
    res_.check_errors++;
    return kCheckEnomem;
  }
  l1_copied_ = reinterpret_cast<L1CopiedFix*>(l1_memory.value());
  l2_copied_ = reinterpret_cast<L2CopiedFix*>(l2_memory.value());
  if (int e = check_oflag_copied(CopiedPass::collect, mismatches)) return e;
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

}  // namespace instar::qcow2::check_internal
