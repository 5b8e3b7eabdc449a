// check_report.cc: decoding the check record and printing qemu-img's summary.
#include "cli/check/check_report.h"

#include <cstdio>

#include "cli/render/qobject.h"
#include "core/ops/check_record.h"
#include "core/ops/info_record.h"

namespace instar::cli {

namespace {

std::string substitute(std::string message, const std::vector<uint64_t>& numbers) {
  size_t from = 0;
  for (uint64_t n : numbers) {
    size_t at = message.find("{}", from);
    if (at == std::string::npos) break;
    std::string text = std::to_string(n);
    message.replace(at, 2, text);
    from = at + text.size();
  }
  return message;
}

std::string printf_text(const char* format, double a, double b, double c, uint64_t n, uint64_t d) {
  char text[256];
  std::snprintf(text, sizeof text, format, static_cast<long long>(n), static_cast<long long>(d), a, b, c);
  return text;
}

}  // namespace

Result<void> check_report_from_record(const DecodedRecord& record, CheckReport& report,
                                      std::optional<std::string>& open_error) {
  const RecordField& r = record.root;
  if (record.operation != static_cast<uint16_t>(Operation::check))
    return make_error(Errc::invalid, "result record is not a check record");
  if (auto message = r.string_of(kTagErrorMessage)) {
    std::vector<uint64_t> numbers;
    if (auto d = r.u64_of(kTagErrorDetail)) numbers = {*d, r.u64_of(kTagErrorDetail2).value_or(0)};
    open_error = substitute(*message, numbers);
    return ok();
  }
  auto format = r.string_of(kCheckFormat);
  if (!format) return make_error(Errc::invalid, "check record lacks the format");
  report.format = *format;
  report.unsupported = r.bool_of(kCheckUnsupported);
  for (const RecordField& f : r.children) {
    if (f.is_group) return make_error(Errc::invalid, "check record holds an unexpected group");
    if (f.tag == kTagWarning) report.warnings.push_back(f.bytes);
    if (f.tag == kCheckLine || f.tag == kCheckErrorLine) {
      if (f.is_u64) return make_error(Errc::invalid, "check record line is not text");
      report.lines.push_back(CheckLine{f.tag == kCheckErrorLine, f.bytes});
    }
  }
  report.lines_dropped = r.u64_of(kCheckLinesDropped).value_or(0);
  if (auto e = r.u64_of(kCheckFailedErrno)) {
    if (*e == 0 || *e > 4095) return make_error(Errc::invalid, "check record holds a bad errno");
    report.failed_errno = static_cast<int>(*e);
  }
  report.check_errors = r.u64_of(kCheckCheckErrors).value_or(0);
  report.corruptions = r.u64_of(kCheckCorruptions).value_or(0);
  report.leaks = r.u64_of(kCheckLeaks).value_or(0);
  report.total_clusters = r.u64_of(kCheckTotalClusters).value_or(0);
  report.allocated_clusters = r.u64_of(kCheckAllocatedClusters).value_or(0);
  report.fragmented_clusters = r.u64_of(kCheckFragmentedClusters).value_or(0);
  report.compressed_clusters = r.u64_of(kCheckCompressedClusters).value_or(0);
  report.image_end_offset = r.u64_of(kCheckImageEndOffset).value_or(0);
  report.leaks_fixed = r.u64_of(kCheckLeaksFixed).value_or(0);
  report.corruptions_fixed = r.u64_of(kCheckCorruptionsFixed).value_or(0);
  report.repair_refused = r.string_of(kCheckRepairRefused);
  report.repair_grow_to = r.u64_of(kCheckRepairGrowTo);
  report.repair_disabled = r.bool_of(kCheckRepairDisabled);
  report.bitmap_store_size = r.u64_of(kCheckBitmapStore);
  report.bitmaps_leak_hint = r.bool_of(kCheckBitmapsLeakHint);
  report.backing_name = r.string_of(kCheckBackingName);
  report.backing_format = r.string_of(kCheckBackingFormat);
  report.data_file = r.string_of(kCheckDataFileName);
  return ok();
}

std::string render_check_human(const CheckReport& c) {
  std::string out;
  // qemu prints these counters as int64_t.
  auto num = [](uint64_t v) { return std::to_string(static_cast<int64_t>(v)); };
  if (c.corruptions == 0 && c.leaks == 0 && c.check_errors == 0) {
    out += "No errors were found on the image.\n";
  } else {
    if (c.corruptions != 0)
      out += "\n" + num(c.corruptions) +
             " errors were found on the image.\n"
             "Data may be corrupted, or further writes to the image may corrupt it.\n";
    if (c.leaks != 0)
      out += "\n" + num(c.leaks) +
             " leaked clusters were found on the image.\n"
             "This means waste of disk space, but no harm to data.\n";
    if (c.check_errors != 0) out += "\n" + num(c.check_errors) + " internal errors have occurred during the check.\n";
  }
  if (c.total_clusters != 0 && c.allocated_clusters != 0) {
    double allocated = static_cast<double>(static_cast<int64_t>(c.allocated_clusters));
    out += printf_text("%lld/%lld = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% compressed clusters\n",
                       allocated * 100.0 / static_cast<double>(static_cast<int64_t>(c.total_clusters)),
                       static_cast<double>(static_cast<int64_t>(c.fragmented_clusters)) * 100.0 / allocated,
                       static_cast<double>(static_cast<int64_t>(c.compressed_clusters)) * 100.0 / allocated,
                       c.allocated_clusters, c.total_clusters);
  }
  if (c.image_end_offset != 0) out += "Image end offset: " + num(c.image_end_offset) + "\n";
  return out;
}

std::string render_check_json(const CheckReport& c, const std::string& filename) {
  // ImageCheck in QAPI field order; optional members only when non-zero, as collect_image_check sets them.
  QObject d = QObject::dict();
  auto optional = [&d](const char* key, uint64_t v) {
    if (v != 0) d.put(key, QObject::integer(static_cast<int64_t>(v)));
  };
  d.put("filename", QObject::string(filename));
  d.put("format", QObject::string(c.format));
  d.put("check-errors", QObject::integer(static_cast<int64_t>(c.check_errors)));
  optional("image-end-offset", c.image_end_offset);
  optional("corruptions", c.corruptions);
  optional("leaks", c.leaks);
  optional("corruptions-fixed", c.corruptions_fixed);
  optional("leaks-fixed", c.leaks_fixed);
  optional("total-clusters", c.total_clusters);
  optional("allocated-clusters", c.allocated_clusters);
  optional("fragmented-clusters", c.fragmented_clusters);
  optional("compressed-clusters", c.compressed_clusters);
  return to_json_pretty(d) + "\n";
}

}  // namespace instar::cli
