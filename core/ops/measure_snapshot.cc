// measure_snapshot.cc: the internal snapshot `measure -l` reads instead of the active image.
#include "core/ops/measure_snapshot.h"

#include "core/base/text.h"
#include "core/ops/qcow2_open.h"

namespace instar {

namespace {

bool key_matches(const SnapshotKey& key, ByteSpan field) {
  if (!key.present || key.length != field.size) return false;
  for (size_t i = 0; i < field.size; i++)
    if (static_cast<uint8_t>(key.bytes[i]) != field[i]) return false;
  return true;
}

enum class Match : uint8_t { id, name, both };

bool matches(Match how, const MeasureParams& key, const Qcow2Snapshot& s) {
  switch (how) {
    case Match::id:
      return key_matches(key.id, s.id);
    case Match::name:
      return key_matches(key.name, s.name);
    case Match::both:
      return key_matches(key.id, s.id) && key_matches(key.name, s.name);
  }
  return false;
}

// qemu's find_snapshot_by_id_and_name: the first entry that matches.
Result<int64_t> first_match(Match how, const MeasureParams& key, Qcow2SnapshotReader reader, Qcow2Snapshot& found) {
  for (int64_t index = 0;; index++) {
    Qcow2Snapshot s;
    INSTAR_TRY_ASSIGN(more, reader.next(s));
    if (!more) return int64_t{-1};
    if (matches(how, key, s)) {
      found = s;
      return index;
    }
  }
}

}  // namespace

Result<int64_t> find_measure_snapshot(const MeasureParams& key, Qcow2SnapshotReader reader, Qcow2Snapshot& found) {
  if (key.lookup == SnapshotLookup::id_or_name) {
    // The one text is tried as an id, then as a name.
    MeasureParams by_name = key;
    by_name.name = key.id;
    INSTAR_TRY_ASSIGN(index, first_match(Match::id, key, reader, found));
    if (index >= 0) return index;
    return first_match(Match::name, by_name, reader, found);
  }
  if (key.lookup != SnapshotLookup::id_and_name) return int64_t{-1};
  if (key.id.present && key.name.present) return first_match(Match::both, key, reader, found);
  if (key.id.present) return first_match(Match::id, key, reader, found);
  if (key.name.present) return first_match(Match::name, key, reader, found);
  return int64_t{-1};
}

Result<void> load_measure_snapshot(const Request& request, const Devices& devices, image::Chain& chain,
                                   Arena& scratch) {
  if (chain.format_of[0] != ImageFormat::qcow2) {
    static char text[128];
    TextBuilder message(text, sizeof text);
    message.append("Block format '");
    message.append(image_format_name(chain.format_of[0]));
    message.append("' used by device '' does not support temporarily loading internal snapshots");
    return make_error(Errc::unsupported, text);
  }
  INSTAR_TRY_ASSIGN(opened, qcow2::open_image(*devices.image, qcow2::QemuRules{request.qemu_major >= 10}, scratch));
  const qcow2::SnapshotView& view = opened.snapshots;
  Qcow2SnapshotReader reader(view.table, view.count, view.cluster_size, view.offset);
  Qcow2Snapshot snapshot{};
  INSTAR_TRY_ASSIGN(index, find_measure_snapshot(request.measure, reader, snapshot));
  if (index < 0) return make_error(Errc::invalid, "Can't find snapshot");
  INSTAR_TRY(reader.validate_l1(snapshot));
  return chain.qcow2[0].load_snapshot_l1(snapshot.l1_table_offset, snapshot.l1_size, scratch);
}

}  // namespace instar
