// snapshot_table.cc: qcow2 snapshot table entries, with qemu's limits and zero-filled tail.
#include "core/qcow2/snapshot_table.h"

#include "core/base/padded.h"
#include "core/base/table.h"
#include "core/qcow2/header.h"

namespace instar {
namespace {

// Byte offsets of a snapshot table entry's fixed part.
constexpr uint64_t kL1TableOffset = 0;
constexpr uint64_t kL1Size = 8;
constexpr uint64_t kIdSize = 12;
constexpr uint64_t kNameSize = 14;
constexpr uint64_t kDateSec = 16;
constexpr uint64_t kDateNsec = 20;
constexpr uint64_t kVmClockNsec = 24;
constexpr uint64_t kVmStateSize = 32;
constexpr uint64_t kExtraDataSize = 36;
// Extra data fields qemu knows, each used when the extra data reaches its end.
constexpr uint64_t kExtraVmStateSizeLarge = 0;
constexpr uint64_t kExtraDiskSize = 8;
constexpr uint64_t kExtraIcount = 16;
constexpr uint64_t kKnownExtraBytes = 24;  // what qemu reads as known fields

}  // namespace

bool Qcow2SnapshotReader::readable(uint64_t position, uint64_t length) const {
  if (table_offset_ > kQemuMaxIoOffset || position > kQemuMaxIoOffset - table_offset_) return false;
  uint64_t at = table_offset_ + position;
  return length <= kQemuMaxIoOffset - at;
}

void Qcow2SnapshotReader::note_read(uint64_t end) {
  if (end > furthest_) furthest_ = end;
}

Result<bool> Qcow2SnapshotReader::fail(Error error) {
  failed_ = true;
  error_ = error;
  return error_;
}

Result<bool> Qcow2SnapshotReader::next(Qcow2Snapshot& out) {
  if (failed_) return error_;
  if (index_ >= nb_snapshots_) return false;
  const Error io_error = make_error(Errc::io, "Failed to read snapshot table: Input/output error");

  // Entries start 8-byte aligned. `start` never exceeds the 64 MiB limit here, so no sum below wraps.
  // The readable() checks follow qemu's reads one by one: header, known extra data, the rest of the
  // extra data, id, name.
  uint64_t start = (length_ + 7) & ~uint64_t{7};
  ByteSpan t = table_;
  if (!readable(start, qcow2::kSnapshotHeaderSize)) return fail(io_error);
  note_read(start + qcow2::kSnapshotHeaderSize);
  uint32_t extra = static_cast<uint32_t>(load_be_padded(t, start + kExtraDataSize, 4));
  bool truncated = false;
  if (extra > kQcow2MaxSnapshotExtraData) {
    if (!repair_)
      return fail(make_error(Errc::too_large,
                             "Too much extra metadata in snapshot table entry {}\n"
                             "You can force-remove this extra metadata with qemu-img check -r all",
                             index_));
    truncated = true;
  }
  uint32_t kept = truncated ? kQcow2MaxSnapshotExtraData : extra;

  uint64_t extra_start = start + qcow2::kSnapshotHeaderSize;
  uint64_t known_extra = extra < kKnownExtraBytes ? extra : kKnownExtraBytes;
  if (!readable(extra_start, known_extra)) return fail(io_error);
  note_read(extra_start + known_extra);
  if (kept > kKnownExtraBytes) {
    if (!readable(extra_start + kKnownExtraBytes, kept - kKnownExtraBytes)) return fail(io_error);
    note_read(extra_start + kept);
  }

  Qcow2Snapshot s{};
  s.l1_table_offset = load_be_padded(t, start + kL1TableOffset, 8);
  s.l1_size = static_cast<uint32_t>(load_be_padded(t, start + kL1Size, 4));
  s.date_sec = static_cast<uint32_t>(load_be_padded(t, start + kDateSec, 4));
  s.date_nsec = static_cast<uint32_t>(load_be_padded(t, start + kDateNsec, 4));
  s.vm_clock_nsec = load_be_padded(t, start + kVmClockNsec, 8);
  s.vm_state_size = load_be_padded(t, start + kVmStateSize, 4);
  s.extra_data_size = kept;
  s.declared_extra_data_size = extra;
  s.extra_truncated = truncated;
  s.unknown_extra_at = extra_start + kKnownExtraBytes;
  s.unknown_extra_size = kept > kKnownExtraBytes ? kept - static_cast<uint32_t>(kKnownExtraBytes) : 0;
  if (extra >= kExtraVmStateSizeLarge + 8)
    s.vm_state_size = load_be_padded(t, extra_start + kExtraVmStateSizeLarge, 8);
  s.has_disk_size = extra >= kExtraDiskSize + 8;
  if (s.has_disk_size) s.disk_size = load_be_padded(t, extra_start + kExtraDiskSize, 8);
  s.icount = extra >= kExtraIcount + 8 ? load_be_padded(t, extra_start + kExtraIcount, 8) : UINT64_MAX;
  s.has_icount = s.icount != UINT64_MAX;

  // The id follows the whole of the extra data, also where qemu kept only part of it.
  uint64_t id_size = load_be_padded(t, start + kIdSize, 2);
  uint64_t name_size = load_be_padded(t, start + kNameSize, 2);
  uint64_t id_start = extra_start + extra;
  if (!readable(id_start, id_size) || !readable(id_start + id_size, name_size)) return fail(io_error);
  s.id = c_string_at(t, id_start, id_size);
  s.name = c_string_at(t, id_start + id_size, name_size);

  uint64_t end = id_start + id_size + name_size;
  if (id_size + name_size != 0) note_read(end);
  // qemu's limits: the table as kept within 64 MiB, and (in repair mode, where the two differ) the
  // entries as read within INT_MAX bytes.
  uint64_t trimmed =
      ((trimmed_length_ + 7) & ~uint64_t{7}) + qcow2::kSnapshotHeaderSize + kept + id_size + name_size;
  bool too_big = repair_ ? trimmed > kQcow2MaxSnapshotTableBytes || end > 0x7fffffffull
                         : end > kQcow2MaxSnapshotTableBytes;
  if (too_big)
    return fail(make_error(Errc::too_large,
                           "Snapshot table is too big\n"
                           "You can force-remove all {} overhanging snapshots with qemu-img check -r all",
                           nb_snapshots_ - index_));

  length_ = end;
  trimmed_length_ = trimmed;
  index_++;
  out = s;
  return true;
}

Result<void> Qcow2SnapshotReader::validate() const {
  Qcow2SnapshotReader copy = *this;
  Qcow2Snapshot s{};
  for (;;) {
    Result<bool> r = copy.next(s);
    if (r.is_error()) return r.error();
    if (!r.value()) return ok();
  }
}

Result<void> Qcow2SnapshotReader::validate_l1(const Qcow2Snapshot& snapshot) const {
  return validate_table(snapshot.l1_table_offset, snapshot.l1_size, qcow2::kL1EntrySize, qcow2::kMaxL1Bytes,
                        cluster_size_, "Snapshot L1 table too large", "Snapshot L1 table offset invalid");
}

}  // namespace instar
