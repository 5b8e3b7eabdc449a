// info.cc: probe or take the format, then report the image through its driver.
#include "core/ops/info.h"

#include "core/image/foreign_open.h"

#include "core/base/text.h"

namespace instar {

void write_error(RecordWriter& out, const Error& error) {
  out.put_string(kTagErrorMessage, error.message);
  if (error.has_detail) {
    out.put_u64(kTagErrorDetail, error.detail);
    out.put_u64(kTagErrorDetail2, error.detail2);
  }
  out.put_u64(kTagErrorCode, static_cast<uint64_t>(error.code));
}

namespace {

Result<void> info_raw(BlockDevice& image, RecordWriter& out) {
  out.put_string(kInfoFormat, "raw");
  // The raw driver reports whole sectors: a partial last sector counts.
  uint64_t size = image.size();
  uint64_t sectors = size / 512 + (size % 512 != 0 ? 1 : 0);
  out.put_u64(kInfoVirtualSize, sectors * 512);
  out.put_bool(kInfoDirty, false);
  return ok();
}

}  // namespace

void run_info(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out) {
  if (devices.image == nullptr) {
    write_error(out, make_error(Errc::invalid, "no image device attached"));
    return;
  }
  ImageFormat format = request.format;
  if (!request.format_given) {
    auto probed = probe_device(*devices.image, request.name_tail,
                               request.qemu_major >= 8 ? ProbeOrder::qemu_10_0 : ProbeOrder::qemu_7_2);
    if (probed.is_error()) {
      write_error(out, probed.error());
      return;
    }
    format = probed.value();
  }
  Result<void> result = ok();
  switch (format) {
    case ImageFormat::raw:
      result = info_raw(*devices.image, out);
      break;
    case ImageFormat::qcow2:
      result = qcow2::info(*devices.image, qcow2::QemuRules{request.qemu_major >= 10}, scratch, out);
      break;
    default:
      // qemu's driver for the format opens the file first: its error when the file is not of that format.
      write_error(out, foreign_open_error(format, *devices.image, scratch));
      return;
  }
  if (result.is_error()) write_error(out, result.error());
}

}  // namespace instar
