// check_report.h: what check found in one image (qemu's ImageCheck plus the
// lines qemu prints while checking), decoded from the guest's record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/record_decoder.h"

namespace instar::cli {

struct CheckLine {
  bool error_report = false;  // printed with "<program>: " in front
  std::string text;
};

struct CheckReport {
  std::string format;
  bool unsupported = false;  // the format has no check
  std::vector<std::string> warnings;
  std::vector<CheckLine> lines;
  uint64_t lines_dropped = 0;
  std::optional<int> failed_errno;  // "Check failed: <strerror>"
  uint64_t check_errors = 0, corruptions = 0, leaks = 0;
  uint64_t total_clusters = 0, allocated_clusters = 0, fragmented_clusters = 0, compressed_clusters = 0;
  uint64_t image_end_offset = 0;
  uint64_t leaks_fixed = 0, corruptions_fixed = 0;  // -r
  std::optional<std::string> repair_refused;       // -r: why instar did not repair (nothing was written)
  bool repair_disabled = false;                    // -r all: the image qemu disabled fails its re-check
  std::optional<uint64_t> repair_grow_to;          // -r all: the size the rebuild needs (nothing was written)
  bool bitmaps_leak_hint = false;                  // qemu's hint after the bitmaps warning (no newline)
  std::optional<uint64_t> bitmap_store_size;       // -r: the bitmaps are stored last; the file's size then
  std::optional<std::string> backing_name, backing_format, data_file;
};

// Fills `report`; `open_error` is set (and the rest left empty) when the image did not open.
Result<void> check_report_from_record(const DecodedRecord& record, CheckReport& report,
                                      std::optional<std::string>& open_error);

// qemu-img's summary: dump_human_image_check() / dump_json_image_check().
std::string render_check_human(const CheckReport& report);
std::string render_check_json(const CheckReport& report, const std::string& filename);

}  // namespace instar::cli
