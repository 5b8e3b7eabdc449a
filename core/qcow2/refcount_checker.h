// refcount_checker.h: the state of one qcow2 reference count check (qemu's
// qcow2_check_refcounts) and the steps it runs, shared by the files that
// implement them: refcount_check.cc (the run and the comparison),
// refcount_check_walk.cc (counting the references the metadata makes),
// refcount_check_copied.cc (OFLAG_COPIED), refcount_check_repair.cc (the
// in-place refcount repair) and refcount_check_rebuild.cc (-r all's new
// refcount structure). Internal: only check_refcounts() is the interface.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/padded.h"
#include "core/base/result.h"
#include "core/base/span_reader.h"
#include "core/io/block_device.h"
#include "core/qcow2/header.h"
#include "core/qcow2/refcount_check.h"
#include "core/qcow2/refcount_check_line.h"
#include "core/qcow2/refcount_check_patches.h"
#include "core/qcow2/refcount_copied_plan.h"
#include "core/qcow2/refcount_rebuild_plan.h"
#include "core/qcow2/refcount_repair_plan.h"
#include "core/qcow2/refcount_table.h"

namespace instar::qcow2::check_internal {

inline constexpr uint64_t kOflagCopied = 1ull << 63;
inline constexpr uint64_t kOflagCompressed = 1ull << 62;
inline constexpr uint64_t kOflagZero = 1ull;
inline constexpr uint64_t kL1OffsetMask = 0x00fffffffffffe00ull;
inline constexpr uint64_t kL1ReservedMask = 0x7f000000000001ffull;
inline constexpr uint64_t kL2OffsetMask = 0x00fffffffffffe00ull;
inline constexpr uint64_t kL2StdReservedMask = 0x3f000000000001feull;
inline constexpr uint64_t kL2BitmapAllAlloc = 0xffffffffull;
inline constexpr uint64_t kMaxL1Entries = (32ull << 20) / 8;  // QCOW_MAX_L1_SIZE / L1E_SIZE
inline constexpr uint64_t kIntMax = 0x7fffffff;
inline constexpr size_t kTableChunk = 64 * 1024;  // L1 and bitmap tables are streamed in chunks this size
inline constexpr uint8_t kFixLeaks = 1;           // BDRV_FIX_LEAKS
inline constexpr uint8_t kFixErrors = 2;          // BDRV_FIX_ERRORS

enum class ClusterType { unallocated, zero_plain, zero_alloc, normal, compressed };

// The OFLAG_COPIED check runs silently to count and then to collect what a repair changes, and once
// more to report (and, when repairing, account) what it finds as qemu prints it.
enum class CopiedPass : uint8_t { count, collect, report };

inline bool beyond_io_ceiling(uint64_t offset, uint64_t length) {
  return offset > kQemuMaxIoOffset || length > kQemuMaxIoOffset - offset;
}

class Checker {
 public:
  Checker(PatchedImage& image, const CheckInput& input, Arena& scratch, CheckLog& log, CheckCounts& counts,
          RepairResult* repair)
      : image_(image),
        patched_(image),
        h_(*input.header),
        input_(input),
        scratch_(scratch),
        log_(log),
        res_(counts),
        stored_(image, *input.header),
        repair_(repair),
        fix_(repair != nullptr ? input.repair : 0) {}

  int run();
  // A stored refcount as the planned repair leaves it, without logging (snapshot_refcount_repair.cc).
  bool repaired_refcount(uint64_t cluster, uint64_t& refcount);

 private:
  int inc_refcounts(uint64_t offset, uint64_t size);
  int check_l1(uint64_t l1_offset, uint64_t l1_size, bool frag_info);
  int check_l2(uint64_t l2_offset, bool frag_info);
  int zero_unaligned_entry(uint64_t l2_offset, uint64_t index, uint64_t bitmap, bool active);
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
  int plan_snapshot_move();
  uint64_t table_entries() const {
    return rebuilt_ != nullptr ? rebuilt_->table_entries : stored_.table_entries();
  }
  uint64_t table_entry(uint64_t i) const;
  uint64_t table_offset() const {
    return rebuilt_ != nullptr ? rebuilt_->table_offset : h_.refcount_table_offset;
  }
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
  uint64_t l2_entry(uint64_t i) const { return load_be(l2_, static_cast<size_t>(i * l2_entry_size_), 8); }
  uint64_t l2_bitmap(uint64_t i) const {
    return h_.extended_l2() ? load_be(l2_, static_cast<size_t>(i * 16 + 8), 8) : 0;
  }
  uint64_t computed(uint64_t k) const { return wide_ ? refs32_[k] : refs16_[k]; }
  // false with the refcount unknown: the lookup failed (reported as qemu reports it).
  bool stored_refcount(uint64_t cluster, uint64_t& refcount);
  // The refcount the planned repair gives `cluster`, once the fixes are applied: false when it has none.
  bool fixed_refcount(uint64_t cluster, uint64_t& refcount) const;
  // An OFLAG_COPIED mismatch: repaired, qemu counts the corruption and takes it back at once.
  void count_copied_mismatch() {
    if (repair_copied_)
      res_.corruptions_fixed++;
    else
      res_.corruptions++;
  }
  void signal_corruption(const Line& message);

  BlockDevice& image_;  // patched_: the entries the repair rewrote while counting are in place
  PatchedImage& patched_;
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
  // L2 tables the active L1 table names more than once, and which of them this pass has visited.
  SharedL2Tables shared_l2_;
  uint8_t* shared_seen_ = nullptr;
  size_t l2_copied_count_ = 0;
};

}  // namespace instar::qcow2::check_internal
