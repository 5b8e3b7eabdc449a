// qcow2_check_fuzzer.cc: the qcow2 consistency check, execute(check), on any image, in-process through
// core/; its record must decode and its counters must agree with each other. With repair (-r), a copy of
// the image is writable: it never changes size (a rebuild that would grow it asks for a larger device,
// and is replayed on one), and it is left untouched when nothing was repaired (but for the corrupt and
// dirty bits, the snapshot table pointer a cleared dirty bit zeroes where the table could not be read,
// or the header whose ignored bitmaps extension -r drops). Persistent bitmaps a repair run asks to store
// are stored on a copy as large as it said, and the result must check clean. qemu's header rewrite is
// checked on every v3 header that parses.
//
// Input: one selector byte, then the image (docs/fuzzing.md):
//   bit 0: force qcow2 (-f qcow2), else probe   bit 1: qemu 10.0 rules (else 7.2)
//   bit 2: -r leaks   bit 3: -r all (with bit 2 or not)
//   bits 4-7, with bit 0: 0 forces qcow2, n the format numbered n % 13 (ImageFormat): a format instar
//   does not parse fails as its qemu driver's first checks do (core/image/foreign_open.h)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/check/check_report.h"
#include "cli/record_decoder.h"
#include "core/io/memory_block_device.h"
#include "core/ops/execute.h"
#include "core/qcow2/header.h"
#include "core/qcow2/header_rewrite.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

// Bounded memory: the check's arena and the record, far below the sandbox's default 512 MiB.
constexpr size_t kScratchBytes = 64u << 20;
constexpr size_t kRecordBytes = 24u << 20;
constexpr uint64_t kMaxGrownBytes = 64u << 20;  // a rebuild's grown copy is replayed up to this size

// qemu's header rewrite (core/qcow2/header_rewrite.h) of any v3 header that parses: it fits in the
// cluster, parses again with the same fields, and rewriting it twice more gives the same bytes (the one
// thing a rewrite reorders, the unknown extensions, it reverses).
void check_header_rewrite(const uint8_t* image, size_t size) {
  using namespace instar::qcow2;
  uint8_t fixed[kHeaderStructSize] = {};
  std::memcpy(fixed, image, size < sizeof fixed ? size : sizeof fixed);
  auto h = parse_header(instar::ByteSpan(fixed, sizeof fixed));
  if (h.is_error() || h.value().version != 3 || size < h.value().cluster_size()) return;
  const size_t cluster = static_cast<size_t>(h.value().cluster_size());
  static std::unique_ptr<uint8_t[]> arena_bytes(new uint8_t[8u << 20]);
  std::vector<uint8_t> once(cluster), twice(cluster), thrice(cluster);
  instar::Arena arena(arena_bytes.get(), 8u << 20);
  const uint64_t features = h.value().incompatible_features;
  if (serialise_header_as_qemu(h.value(), instar::ByteSpan(image, cluster), features, once.data(), arena)
          .is_error())
    return;
  // qemu pads an extension it writes by its length but steps over one it reads to the next multiple of
  // 8 of the file offset: after unknown header fields of a length not a multiple of 8 the two disagree.
  if (h.value().header_length > 112 && h.value().header_length % 8 != 0) return;
  auto h1 = parse_header(instar::ByteSpan(once.data(), kHeaderStructSize));
  INSTAR_FUZZ_CHECK(h1.is_ok());
  INSTAR_FUZZ_CHECK(h1.value().size == h.value().size / 512 * 512);
  INSTAR_FUZZ_CHECK(h1.value().incompatible_features == features);
  INSTAR_FUZZ_CHECK(h1.value().l1_table_offset == h.value().l1_table_offset);
  INSTAR_FUZZ_CHECK(h1.value().refcount_table_offset == h.value().refcount_table_offset);
  INSTAR_FUZZ_CHECK(h1.value().header_length >= 112);
  INSTAR_FUZZ_CHECK(serialise_header_as_qemu(h1.value(), instar::ByteSpan(once.data(), cluster), features,
                                             twice.data(), arena)
                        .is_ok());
  auto h2 = parse_header(instar::ByteSpan(twice.data(), kHeaderStructSize));
  INSTAR_FUZZ_CHECK(h2.is_ok());
  INSTAR_FUZZ_CHECK(serialise_header_as_qemu(h2.value(), instar::ByteSpan(twice.data(), cluster), features,
                                             thrice.data(), arena)
                        .is_ok());
  INSTAR_FUZZ_CHECK(once == thrice);
  // A header its rewrite leaves as it is is one whose rewrite is the same bytes.
  if (header_rewrite_only_features(h.value(), instar::ByteSpan(image, cluster), arena))
    INSTAR_FUZZ_CHECK(std::memcmp(once.data(), image, cluster) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > instar::fuzz::kMaxInputBytes) return 0;
  uint8_t selector = data[0];
  std::vector<uint8_t> bytes(data + 1, data + size);
  uint8_t repair = (selector & 8) != 0   ? (instar::kRepairLeaks | instar::kRepairErrors)
                   : (selector & 4) != 0 ? instar::kRepairLeaks
                                         : 0;
  instar::MemoryBlockDevice image(bytes.data(), bytes.size(), repair != 0);

  instar::Request request;
  request.operation = instar::Operation::check;
  request.format_given = (selector & 1) != 0;
  uint8_t forced = selector >> 4;
  request.format = forced == 0 ? instar::ImageFormat::qcow2
                               : static_cast<instar::ImageFormat>(forced % instar::kImageFormatCount);
  bool qemu_10 = (selector & 2) != 0;
  request.qemu_major = qemu_10 ? 10 : 7;
  request.qemu_minor = qemu_10 ? 0 : 2;
  std::memcpy(request.name_tail, "disk.img", 9);
  request.check.repair = repair;

  static std::unique_ptr<uint8_t[]> scratch(new uint8_t[kScratchBytes]);
  static std::unique_ptr<uint8_t[]> record(new uint8_t[kRecordBytes]);
  instar::Arena arena(scratch.get(), kScratchBytes);
  instar::RecordWriter writer(record.get(), kRecordBytes);
  instar::Devices devices;
  devices.image = &image;
  auto ran = instar::execute(request, devices, arena, writer);
  INSTAR_FUZZ_CHECK(ran.is_ok());  // the log budget keeps every record within kRecordBytes
  INSTAR_FUZZ_CHECK(arena.used() <= arena.capacity());

  auto decoded = instar::cli::decode_record(instar::ByteSpan(writer.data(), writer.size()));
  INSTAR_FUZZ_CHECK(decoded.is_ok());
  instar::cli::CheckReport report;
  std::optional<std::string> open_error;
  auto filled = instar::cli::check_report_from_record(decoded.value(), report, open_error);
  INSTAR_FUZZ_CHECK(filled.is_ok());
  bool unchanged = std::memcmp(bytes.data(), data + 1, size - 1) == 0;
  INSTAR_FUZZ_CHECK(repair != 0 || unchanged);
  INSTAR_FUZZ_CHECK(image.size() == size - 1);
  check_header_rewrite(data + 1, size - 1);
  if (open_error) {
    INSTAR_FUZZ_CHECK(!open_error->empty());
    INSTAR_FUZZ_CHECK(unchanged);
    return 0;
  }
  if (report.repair_grow_to) {
    // A rebuild that grows the file asks the host for a device that large first, writing nothing; on
    // one (zeros past the file, as a host device past the end of its file), the same repair runs and
    // writes only inside it, leaving the old bytes' length as they were.
    const uint64_t grow_to = *report.repair_grow_to;
    INSTAR_FUZZ_CHECK(unchanged && (repair & instar::kRepairErrors) != 0 && grow_to > size - 1);
    if (grow_to > kMaxGrownBytes) return 0;
    std::vector<uint8_t> grown(static_cast<size_t>(grow_to), 0);
    std::memcpy(grown.data(), data + 1, size - 1);
    instar::MemoryBlockDevice grown_image(grown.data(), grown.size(), true);
    request.check.file_size = size - 1;
    instar::Arena arena2(scratch.get(), kScratchBytes);
    instar::RecordWriter writer2(record.get(), kRecordBytes);
    devices.image = &grown_image;
    INSTAR_FUZZ_CHECK(instar::execute(request, devices, arena2, writer2).is_ok());
    INSTAR_FUZZ_CHECK(grown_image.size() == grow_to);
    auto again = instar::cli::decode_record(instar::ByteSpan(writer2.data(), writer2.size()));
    INSTAR_FUZZ_CHECK(again.is_ok());
    instar::cli::CheckReport second;
    std::optional<std::string> second_error;
    INSTAR_FUZZ_CHECK(instar::cli::check_report_from_record(again.value(), second, second_error).is_ok());
    INSTAR_FUZZ_CHECK(!second_error && !second.repair_grow_to);
    if (second.repair_disabled) INSTAR_FUZZ_CHECK(grown[79] & 2);
    return 0;
  }
  if (report.repair_refused) {
    // Refused before anything was written; the counters are not reported.
    INSTAR_FUZZ_CHECK(unchanged && repair != 0 && !report.repair_refused->empty());
    return 0;
  }
  if (report.bitmap_store_size) {
    // qemu stores the persistent bitmaps on close: the host's last run, on a device as large as the
    // repair run said, must store them, and leave an image a check finds consistent.
    const uint64_t store_size = *report.bitmap_store_size;
    INSTAR_FUZZ_CHECK(repair != 0 && store_size >= size - 1 && !report.failed_errno);
    if (store_size > kMaxGrownBytes) return 0;
    std::vector<uint8_t> stored(static_cast<size_t>(store_size), 0);
    std::memcpy(stored.data(), bytes.data(), size - 1);
    instar::MemoryBlockDevice stored_image(stored.data(), stored.size(), true);
    instar::Request store = request;
    store.check.repair = 0;
    store.check.store_bitmaps = true;
    store.check.file_size = store_size > size - 1 ? size - 1 : 0;
    instar::Arena arena2(scratch.get(), kScratchBytes);
    instar::RecordWriter writer2(record.get(), kRecordBytes);
    devices.image = &stored_image;
    INSTAR_FUZZ_CHECK(instar::execute(store, devices, arena2, writer2).is_ok());
    auto again = instar::cli::decode_record(instar::ByteSpan(writer2.data(), writer2.size()));
    INSTAR_FUZZ_CHECK(again.is_ok());
    instar::cli::CheckReport second;
    std::optional<std::string> second_error;
    INSTAR_FUZZ_CHECK(instar::cli::check_report_from_record(again.value(), second, second_error).is_ok());
    INSTAR_FUZZ_CHECK(!second_error);
    instar::Request recheck = request;
    recheck.check.repair = 0;
    instar::MemoryBlockDevice reread(stored.data(), stored.size(), false);
    devices.image = &reread;
    instar::Arena arena3(scratch.get(), kScratchBytes);
    instar::RecordWriter writer3(record.get(), kRecordBytes);
    INSTAR_FUZZ_CHECK(instar::execute(recheck, devices, arena3, writer3).is_ok());
    auto third = instar::cli::decode_record(instar::ByteSpan(writer3.data(), writer3.size()));
    INSTAR_FUZZ_CHECK(third.is_ok());
    instar::cli::CheckReport checked;
    std::optional<std::string> third_error;
    INSTAR_FUZZ_CHECK(instar::cli::check_report_from_record(third.value(), checked, third_error).is_ok());
    INSTAR_FUZZ_CHECK(!third_error && !checked.failed_errno);
    INSTAR_FUZZ_CHECK(checked.leaks == 0 && checked.corruptions == 0 && checked.check_errors == 0);
  }
  // Nothing repaired: untouched, or only the feature bits of byte 79 changed (qemu's -r sets the corrupt
  // bit, bit 1, on a fatal corruption event such as an unaligned refcount block, and keeps it when its
  // rebuild then fails at its first write; it clears the dirty bit, bit 0, when it closes the image).
  // A snapshot table the check could not read is forgotten: the header rewrite that clears the dirty
  // bit then stores 0 snapshots at offset 0 (bytes 60..71).
  if (report.leaks_fixed == 0 && report.corruptions_fixed == 0) {
    bool dirty_cleared = size - 1 >= 80 && (data[1 + 79] & 1) != 0 && (bytes[79] & 1) == 0;
    bool pointer_kept = size - 1 >= 80 && std::memcmp(bytes.data() + 60, data + 1 + 60, 12) == 0;
    bool pointer_forgotten = dirty_cleared && std::all_of(bytes.begin() + 60, bytes.begin() + 72,
                                                          [](uint8_t b) { return b == 0; });
    bool only_features = size - 1 >= 80 && ((bytes[79] ^ data[1 + 79]) & ~3) == 0 &&
                         std::memcmp(bytes.data(), data + 1, 60) == 0 &&
                         (pointer_kept || pointer_forgotten) &&
                         std::memcmp(bytes.data() + 72, data + 1 + 72, 7) == 0 &&
                         std::memcmp(bytes.data() + 80, data + 1 + 80, size - 1 - 80) == 0;
    // Where a program without bitmap support touched the bitmaps, -r drops their extension: the header
    // cluster changes, and nothing past it.
    bool only_header = report.bitmaps_leak_hint && size - 1 >= 512 &&
                       std::memcmp(bytes.data() + 512, data + 1 + 512, size - 1 - 512) == 0;
    INSTAR_FUZZ_CHECK(unchanged || (repair != 0 && (only_features || only_header)));
  }
  // The dirty bit is never set, and a repair clears it unless it marked the image corrupt (a corrupt bit
  // set by this run, which leaves the dirty bit as it was).
  if (size - 1 >= 80) {
    uint8_t before = data[1 + 79], after = bytes[79];
    INSTAR_FUZZ_CHECK((after & 1) <= (before & 1));
    if (repair != 0 && (before & 3) == 1) {
      bool marked = (after & 2) != 0;
      INSTAR_FUZZ_CHECK(marked ? (after & 1) != 0 : (after & 1) == 0);
    }
  }
  if ((repair & instar::kRepairErrors) == 0) INSTAR_FUZZ_CHECK(report.corruptions_fixed == 0);
  // A repair that disabled the image (qemu's double check then fails) rebuilt it, repaired something,
  // and left the corrupt bit set.
  if (report.repair_disabled) {
    INSTAR_FUZZ_CHECK((repair & instar::kRepairErrors) != 0 && !report.failed_errno);
    INSTAR_FUZZ_CHECK(report.leaks_fixed != 0 || report.corruptions_fixed != 0);
    INSTAR_FUZZ_CHECK(size - 1 >= 80 && (bytes[79] & 2) != 0);
  }
  if (report.unsupported) return 0;
  INSTAR_FUZZ_CHECK(report.format == "qcow2");
  // Counters: every fragmented or compressed cluster is an allocated one, and compressed ones count as
  // fragmented; the end offset is a whole number of clusters past at most one cluster beyond the file.
  INSTAR_FUZZ_CHECK(report.fragmented_clusters <= report.allocated_clusters);
  INSTAR_FUZZ_CHECK(report.compressed_clusters <= report.fragmented_clusters);
  uint64_t file = size - 1;
  if (!report.failed_errno) {
    INSTAR_FUZZ_CHECK(report.image_end_offset > 0);
    INSTAR_FUZZ_CHECK(report.image_end_offset <= file + (uint64_t{4} << 21));
  }
  // Every leak and most corruptions come with a line; a leak never comes without one.
  INSTAR_FUZZ_CHECK(report.leaks <= report.lines.size() + report.lines_dropped);
  return 0;
}
