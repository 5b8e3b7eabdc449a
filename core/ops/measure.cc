// measure.cc: qemu-img measure's walk over the source: block status of the
// whole chain (or of an internal snapshot, -l) from offset 0 to its length,
// counting the target clusters that hold data (qcow2_measure), and the
// source's persistent bitmaps.
#include "core/ops/measure.h"

#include "core/image/chain.h"
#include "core/ops/chain_open.h"
#include "core/ops/corruption_events.h"
#include "core/ops/info.h"
#include "core/ops/measure_plan.h"
#include "core/ops/measure_record.h"
#include "core/ops/measure_snapshot.h"
#include "core/ops/qcow2_open.h"
#include "core/qcow2/bitmap_directory.h"

namespace instar {

namespace {

// Every persistent bitmap the qcow2 driver loads when it opens the source.
Result<void> record_bitmaps(BlockDevice& device, const Request& request, Arena& scratch, RecordWriter& out) {
  INSTAR_TRY_ASSIGN(opened, qcow2::open_image(device, qcow2::QemuRules{request.qemu_major >= 10}, scratch));
  bool supported = opened.header.version >= 3;
  out.put_bool(kMeasureBitmapsSupported, supported);
  if (!supported || !opened.ext.has_bitmaps) return ok();
  const qcow2::BitmapView& view = opened.bitmaps;
  Qcow2BitmapReader reader(view.directory, view.extension, view.cluster_size, view.disk_size);
  for (;;) {
    Qcow2Bitmap bitmap;
    INSTAR_TRY_ASSIGN(more, reader.next(bitmap));
    if (!more) break;
    out.begin(kMeasureBitmap);
    out.put_u64(kMeasureBitmapNameLength, bitmap.name.size);
    out.put_u64(kMeasureBitmapGranularityBits, bitmap.granularity_bits);
    out.end(kMeasureBitmap);
  }
  return ok();
}

}  // namespace

void run_measure(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out) {
  image::Chain chain;
  CorruptionEventsOnExit events(out, chain);
  if (!open_chain_or_report(request, devices, scratch, chain, out)) return;
  if (request.measure.lookup != SnapshotLookup::none) {
    // qemu-img loads the snapshot once the whole chain opened.
    auto loaded = load_measure_snapshot(request, devices, chain, scratch);
    if (loaded.is_error()) {
      write_error(out, loaded.error());
      out.put_bool(kMeasureSnapshotFailed, true);
      return;
    }
  }
  image::Layer& top = *chain.top;
  uint64_t length = top.size;
  out.put_string(kMeasureFormat, image_format_name(chain.format_of[0]));
  out.put_u64(kMeasureLength, length);
  if (chain.format_of[0] == ImageFormat::qcow2) {
    auto bitmaps = record_bitmaps(*devices.image, request, scratch, out);
    if (bitmaps.is_error()) {
      write_error(out, bitmaps.error());
      return;
    }
  }
  measure::DataCounter counter;
  for (uint64_t offset = 0; request.measure.count_data && offset < length;) {
    auto status = image::chain_status(top, offset, length - offset);
    if (status.is_error()) {
      write_error(out, make_error(Errc::io, "Unable to get block status: Input/output error"));
      return;
    }
    const image::Status& s = status.value().status;
    if (s.length == 0 || s.length > length - offset) {
      write_error(out, make_error(Errc::invalid, "block status made no progress"));
      return;
    }
    // qcow2_measure: zero regions are skipped; allocated data counts whole target clusters.
    bool counts = (s.flags & image::kZero) == 0 && (s.flags & image::kData) != 0 &&
                  (s.flags & image::kAllocated) != 0;
    if (counts) counter.add_data(offset, s.length);
    offset += s.length;
  }
  for (size_t i = 0; i < measure::kClusterSizeCount; i++)
    out.put_u64(static_cast<uint16_t>(kMeasureDataClusters + i), counter.clusters_at(i));
}

}  // namespace instar
