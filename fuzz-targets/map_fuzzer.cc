// map_fuzzer.cc: the whole core entry point, execute(map), on a qcow2 image built from the input
// (structure-aware: L1 and L2 tables with normal, zero, compressed and extended-L2 entries) or on the input's
// bytes as they are, with a random window, both profiles, and backing / data files attached when core asks
// for them, as cli/chain/chain_session.cc does.
//
// Invariants: execute() succeeds, its record decodes and its extent batches unpack (all full but the
// last); a map record is an error, a device request, or layers then entries; the entries start at the
// window's start, follow each other without gap or overlap, are non-empty (except a single zero-length
// entry for an empty window), end inside the window (at its end when the walk finished), never could have
// been merged with their neighbour, name a layer that exists; and running the same request again, with the
// scratch memory overwritten, gives the same record.
//
// Input (docs/fuzzing.md, "map"): values taken in order by InputReader (zeros past the end):
//   selector  bit 0: qemu 10.0 rules (else 7.2)
//             bits 1-2: 0 or 1: a built qcow2 image (bit 3: with -f qcow2, else probed); 2: the rest of the
//                       input as the image, probed; 3: the rest as the image with -f (bit 3: qcow2, else raw)
//             bit 4: the devices report a hole for every 4 KiB block of zeros (a sparse file), else all data
//             bits 5-6: what to attach when core asks for a device: 0 nothing (the request stays unanswered),
//                       1 a second built image (qcow2 or raw), 2 the image itself again, 3 a raw file of zeros
//   window    one byte choosing the shape of --start-offset / --max-length, then two u64 (a start + length past
//             INT64_MAX maps nothing, as in qemu-img, whose int64_t sum wraps)
//   image     build_image()'s values, or the bytes
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cli/chain/corruption_events.h"
#include "cli/map/map_entries.h"
#include "cli/record_decoder.h"
#include "core/io/memory_block_device.h"
#include "core/ops/execute.h"
#include "core/ops/info_record.h"
#include "core/ops/map_record.h"
#include "core/qcow2/header.h"
#include "fuzz-targets/fuzz_support.h"
#include "fuzz-targets/sparse_fuzz_device.h"

namespace {

using instar::ByteSpan;
using instar::cli::MapEntry;
using instar::cli::RecordField;
using instar::fuzz::InputReader;
namespace q = instar::qcow2;

constexpr size_t kMaxImageBytes = 1u << 20;
constexpr size_t kScratchBytes = 160u << 20;
constexpr size_t kRecordBytes = 8u << 20;
uint8_t g_image[kMaxImageBytes];
uint8_t g_second[kMaxImageBytes];
uint8_t g_zeros[64u << 10];
uint8_t g_scratch[kScratchBytes];
uint8_t g_record[kRecordBytes];
uint8_t g_first_record[kRecordBytes];

using FuzzDevice = instar::fuzz::SparseFuzzDevice;

void be(uint8_t* image, size_t size, uint64_t at, uint64_t value, unsigned width) {
  for (unsigned i = 0; i < width; i++)
    if (at + i < size) image[at + i] = static_cast<uint8_t>(value >> (8 * (width - 1 - i)));
}

// A qcow2 image: header (v2 or v3, any cluster size, optional extended L2, zstd, backing file name, external
// data file), L1 at cluster 1, refcount table at 2, then L2 tables and data clusters the entries point at.
// Each L2 entry is chosen from: unallocated, normal (at a data cluster, sometimes unaligned or past the end),
// zero (plain or with an offset), compressed (offset and sector count from the input), anything at all.
size_t build_image(InputReader& in, uint8_t* out, size_t max_bytes) {
  uint32_t version = 2 + (in.u8() & 1);
  uint8_t shape = in.u8();
  // Small clusters most of the time: more entries per byte of input.
  uint32_t cluster_bits = (shape & 0x80) != 0 ? q::kMinClusterBits + shape % 13 : q::kMinClusterBits + shape % 4;
  uint64_t cluster = uint64_t{1} << cluster_bits;
  uint8_t extended_choice = in.u8();
  bool extended = version == 3 && (extended_choice & 3) == 3 && cluster_bits >= 14;
  uint64_t entry_bytes = extended ? 16 : 8;
  uint64_t l2_entries = cluster / entry_bytes;
  uint64_t clusters = 5 + in.u8() % 28;
  uint64_t file_size = clusters * cluster < max_bytes ? clusters * cluster : max_bytes;
  uint8_t cut = in.u8();
  if (cut >= 0xf0) file_size = file_size * (cut - 0xef) / 17;
  std::memset(out, 0, file_size);
  auto put = [&](uint64_t at, uint64_t value, unsigned width) { be(out, file_size, at, value, width); };
  auto cluster_at = [&](uint8_t choice) { return (3 + choice % (clusters > 3 ? clusters - 3 : 1)) * cluster; };

  uint64_t l1_size = 1 + in.u8() % 4;
  if (l1_size * 8 > cluster) l1_size = cluster / 8;
  uint64_t span = l1_size * l2_entries * cluster;
  uint64_t disk_size = (in.u32() % (span / 512 + 2)) * 512;
  if ((in.u8() & 7) == 0) disk_size += in.u16() % 512;  // not a multiple of 512: qemu rounds up
  uint64_t l1_needed = (disk_size + l2_entries * cluster - 1) / (l2_entries * cluster);
  if (l1_needed > l1_size) l1_needed = l1_size;

  uint8_t features = in.u8();
  uint64_t incompatible = version == 3 ? (features & 0x3) : 0;  // dirty, corrupt
  if (extended) incompatible |= q::kIncompatExtendedL2;
  bool data_file = version == 3 && (features & 0x20) != 0;
  if (data_file) incompatible |= q::kIncompatDataFile;
  uint64_t autoclear = data_file && (features & 0x40) != 0 ? 2 : 0;  // data file raw
  bool zstd = version == 3 && (features & 0x08) != 0;
  if (zstd) incompatible |= q::kIncompatCompression;
  uint32_t header_length = version == 3 ? 112 : q::kV2HeaderLength;

  uint64_t at = header_length;
  if (data_file) {
    static const char kName[] = "disk.data";
    put(at, q::kExtDataFile, 4);
    put(at + 4, sizeof kName - 1, 4);
    for (size_t i = 0; i + 1 < sizeof kName; i++) put(at + 8 + i, static_cast<uint8_t>(kName[i]), 1);
    at += 8 + 16;
  }
  if ((features & 0x10) != 0) {
    static const char kRaw[] = "raw";
    put(at, q::kExtBackingFormat, 4);
    put(at + 4, 3, 4);
    for (size_t i = 0; i < 3; i++) put(at + 8 + i, static_cast<uint8_t>(kRaw[i]), 1);
    at += 16;
  }
  at += 8;  // end of extensions
  uint64_t backing_offset = 0, backing_size = 0;
  if ((features & 0x04) != 0) {
    static const char kBacking[] = "disk.base";
    backing_offset = at;
    backing_size = sizeof kBacking - 1;
    for (size_t i = 0; i < backing_size; i++) put(at + i, static_cast<uint8_t>(kBacking[i]), 1);
  }

  put(0, q::kMagic, 4);
  put(4, version, 4);
  put(8, backing_offset, 8);
  put(16, backing_size, 4);
  put(20, cluster_bits, 4);
  put(24, disk_size, 8);
  put(36, l1_size, 4);
  put(40, cluster, 8);
  put(48, 2 * cluster, 8);
  put(56, 1, 4);
  if (version == 3) {
    put(72, incompatible, 8);
    put(88, autoclear, 8);
    put(96, 4, 4);
    put(100, header_length, 4);
    put(104, zstd ? 1 : 0, 1);
  }

  // L1 entries: an L2 table at a cluster (sometimes unaligned, past the end, or without the copied bit).
  uint64_t l2_tables[4] = {};
  for (uint64_t i = 0; i < l1_needed; i++) {
    uint8_t choice = in.u8();
    uint64_t entry = 0;
    if (choice < 200) {
      l2_tables[i] = cluster_at(in.u8());
      entry = (uint64_t{1} << 63) | l2_tables[i];
    } else if (choice < 230) {
      entry = in.u64();
    } else if (choice < 245) {
      entry = (uint64_t{1} << 63) | (cluster_at(in.u8()) + 512);
    }
    put(cluster + 8 * i, entry, 8);
  }

  // L2 entries, in runs: (count, kind) pairs until the input says stop.
  for (uint64_t t = 0; t < l1_needed; t++) {
    if (l2_tables[t] == 0) continue;
    uint64_t index = 0;
    while (index < l2_entries) {
      uint8_t run = in.u8();
      if (run == 0) break;
      uint8_t kind = in.u8();
      uint32_t bitmap_alloc = 0, bitmap_zero = 0;
      if (extended) {
        bitmap_alloc = in.u32();
        bitmap_zero = (kind & 0x80) != 0 ? in.u32() : ~bitmap_alloc & (in.u8() & 1 ? 0xffffffffu : 0);
      }
      // The run's operand, read once: entry r of the run derives from it.
      uint64_t operand = 0, operand2 = 0;
      switch (kind % 8) {
        case 1:
        case 2:
        case 4:
          operand = in.u8();
          break;
        case 5:
          operand = in.u8();
          operand2 = in.u32();
          break;
        case 6:
          operand = (kind & 0x40) != 0 ? in.u32() : in.u8();
          break;
        case 7:
          operand = in.u64();
          break;
        default:
          break;
      }
      for (uint8_t r = 0; r < (run & 0x3f) && index < l2_entries; r++, index++) {
        uint64_t entry = 0;
        switch (kind % 8) {
          case 0:  // unallocated
            break;
          case 1:
          case 2:  // normal, at consecutive data clusters
            entry = (uint64_t{1} << 63) | cluster_at(static_cast<uint8_t>(operand + r));
            break;
          case 3:  // zero, no offset
            entry = 1;
            break;
          case 4:  // zero with an offset (allocated zeroes)
            entry = (uint64_t{1} << 63) | cluster_at(static_cast<uint8_t>(operand + r)) | 1;
            break;
          case 5: {  // compressed: offset anywhere, a few sectors
            uint64_t x = 62 - (cluster_bits - 8);
            entry = (uint64_t{1} << 62) | ((operand % 4) << x) | ((operand2 + 512 * r) % file_size + 1);
            break;
          }
          case 6:  // normal but unaligned or past the end
            entry = (uint64_t{1} << 63) |
                    ((kind & 0x40) != 0 ? operand << 9 : cluster_at(static_cast<uint8_t>(operand + r)) + 512);
            break;
          default:  // anything at all
            entry = operand;
            break;
        }
        uint64_t slot = l2_tables[t] + index * entry_bytes;
        put(slot, entry, 8);
        if (extended) put(slot + 8, (uint64_t{bitmap_zero} << 32) | bitmap_alloc, 8);
      }
    }
  }
  // Data clusters hold a pattern, so that a sparse device sees them as data.
  for (uint64_t c = 3 * cluster; c < file_size; c += 512)
    if (c + 1 < file_size && out[c] == 0 && out[c + 1] == 0) out[c] = 0xd5;

  uint8_t pokes = in.u8() % 5;
  for (uint8_t p = 0; p < pokes && file_size > 0; p++) {
    uint32_t where = in.u32();
    out[where % file_size] = in.u8();
  }
  return file_size;
}

struct Window {
  uint64_t start = 0;
  bool has_max = false;
  uint64_t max = 0;
};

Window pick_window(InputReader& in) {
  uint8_t shape = in.u8();
  uint64_t a = in.u64(), b = in.u64();
  Window w;
  switch (shape % 6) {
    case 0:  // none
      break;
    case 1:  // sector-aligned, small
      w.start = (a % 8192) * 512;
      w.has_max = (shape & 0x40) != 0;
      w.max = (b % 8192) * 512;
      break;
    case 2:  // any byte, small
      w.start = a % (4u << 20);
      w.has_max = (shape & 0x40) != 0;
      w.max = b % (4u << 20);
      break;
    case 3:  // anything qemu-img accepts (0 .. INT64_MAX)
      w.start = a >> 1;
      w.has_max = true;
      w.max = b >> 1;
      break;
    case 4:  // a length only
      w.has_max = true;
      w.max = b % (8u << 20);
      break;
    default:  // a start only
      w.start = a % (8u << 20);
      break;
  }
  return w;
}

// The devices of one run: the image and whatever has been attached so far.
struct Setup {
  FuzzDevice* image = nullptr;
  FuzzDevice* attached[instar::kMaxAttached] = {};
  size_t attached_count = 0;
};

struct RunResult {
  size_t record_size;
  size_t scratch_used;
};

RunResult run(const instar::Request& request, const Setup& setup, uint8_t* record) {
  instar::Devices devices;
  devices.image = setup.image;
  for (size_t i = 0; i < setup.attached_count; i++) devices.attached[i] = setup.attached[i];
  instar::Arena scratch(g_scratch, sizeof g_scratch);
  instar::RecordWriter writer(record, kRecordBytes);
  auto executed = instar::execute(request, devices, scratch, writer);
  INSTAR_FUZZ_CHECK(executed.is_ok());
  INSTAR_FUZZ_CHECK(!writer.failed());
  return RunResult{writer.size(), scratch.used()};
}

// What qemu-img's entry_mergeable says (map.cc merges exactly these).
bool mergeable(const MapEntry& a, const MapEntry& b) {
  if (a.flags != b.flags || a.depth != b.depth || a.has_offset != b.has_offset) return false;
  if (!a.has_offset) return true;
  return a.file == b.file && a.offset + a.length == b.offset;
}

void check_map(const RecordField& root, const Window& w, uint64_t devices) {
  // Every map record's extent batches unpack.
  auto decoded = instar::cli::decode_map_entries(root);
  INSTAR_FUZZ_CHECK(decoded.is_ok());
  // Core's corruption events (an unaligned refcount block on the metadata-preallocation walk, a corrupt
  // table entry on block status) pass the host's check: at most one per layer. Only the walk's goes on:
  // every other event comes with the operation's error.
  auto events = instar::cli::corruption_events(root);
  INSTAR_FUZZ_CHECK(events.has_value() && events->size() <= 17);
  for (const std::string& line : *events)
    if (line.find("Refblock offset ") == std::string::npos)
      INSTAR_FUZZ_CHECK(root.find(instar::kTagErrorMessage) != nullptr);
  const std::vector<MapEntry>& entries = decoded.value();
  if (root.find(instar::kTagNeedDevice) != nullptr) {
    INSTAR_FUZZ_CHECK(entries.empty());
    return;
  }
  auto layers = root.find_all(instar::kTagLayer);
  bool error = root.find(instar::kTagErrorMessage) != nullptr;
  if (error) INSTAR_FUZZ_CHECK(root.string_of(instar::kTagErrorMessage).value_or("") != "");
  if (layers.empty()) {
    // The open failed: an error and nothing else.
    INSTAR_FUZZ_CHECK(error && entries.empty());
    return;
  }
  INSTAR_FUZZ_CHECK(layers.size() <= 17);
  for (const RecordField* l : layers) INSTAR_FUZZ_CHECK(l->u64_of(instar::kTagLayerDevice).value_or(99) < devices);
  if (entries.empty()) {
    INSTAR_FUZZ_CHECK(error);  // the first block status failed
    return;
  }
  // Batches are full but for the last.
  auto batches = root.find_all(instar::kMapEntries);
  for (size_t i = 0; i + 1 < batches.size(); i++)
    INSTAR_FUZZ_CHECK(batches[i]->bytes.size() == instar::kMapEntriesPerField * instar::kMapEntryBytes);
  uint64_t expected_start = w.start;
  for (size_t i = 0; i < entries.size(); i++) {
    const MapEntry& e = entries[i];
    INSTAR_FUZZ_CHECK(e.start == expected_start);
    INSTAR_FUZZ_CHECK(e.length > 0 || entries.size() == 1);
    INSTAR_FUZZ_CHECK(e.length <= ~uint64_t{0} - e.start);
    INSTAR_FUZZ_CHECK(e.depth < layers.size());
    INSTAR_FUZZ_CHECK((e.flags & ~uint64_t{15}) == 0);
    if ((e.flags & instar::kMapCompressed) != 0) INSTAR_FUZZ_CHECK((e.flags & instar::kMapData) != 0);
    if (e.has_offset) INSTAR_FUZZ_CHECK(e.file < devices);
    if (i > 0) INSTAR_FUZZ_CHECK(!mergeable(entries[i - 1], e));
    expected_start = e.start + e.length;
  }
  // Inside the window; at its end when the walk finished.
  if (w.has_max && w.max <= ~uint64_t{0} - w.start) INSTAR_FUZZ_CHECK(expected_start <= w.start + w.max);
  if (entries.size() == 1 && entries[0].length == 0) {
    INSTAR_FUZZ_CHECK(!error);
  }
  // qemu-img's start + max-length is an int64_t that wraps: past INT64_MAX nothing is mapped.
  if (w.has_max && (w.max > ~uint64_t{0} - w.start || w.start + w.max > 0x7fffffffffffffffull))
    INSTAR_FUZZ_CHECK(entries.size() == 1 && entries[0].length == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  InputReader in(ByteSpan(data, size));
  uint8_t selector = in.u8();
  Window window = pick_window(in);
  bool sparse = (selector & 0x10) != 0;

  instar::Request request;
  request.operation = instar::Operation::map;
  bool qemu_10 = (selector & 1) != 0;
  request.qemu_major = qemu_10 ? 10 : 7;
  request.qemu_minor = qemu_10 ? 0 : 2;
  std::memcpy(request.name_tail, "disk.img", sizeof "disk.img");
  request.map.start = window.start;
  request.map.has_max_length = window.has_max;
  request.map.max_length = window.max;

  size_t image_size = 0;
  const uint8_t* image_bytes = g_image;
  switch ((selector >> 1) & 3) {
    case 2:
    case 3: {
      ByteSpan rest = in.rest();
      image_bytes = rest.data;
      image_size = rest.size;
      if (((selector >> 1) & 3) == 3) {
        request.format_given = true;
        request.format = (selector & 8) != 0 ? instar::ImageFormat::qcow2 : instar::ImageFormat::raw;
      }
      break;
    }
    default:
      image_size = build_image(in, g_image, kMaxImageBytes);
      if ((selector & 8) != 0) {
        request.format_given = true;
        request.format = instar::ImageFormat::qcow2;
      }
      break;
  }

  // A second image for backing and data files: qcow2 or raw, from what is left of the input.
  size_t second_size = 0;
  uint8_t attach = (selector >> 5) & 3;
  if (attach == 1) {
    if ((in.u8() & 1) != 0) {
      second_size = build_image(in, g_second, 256u << 10);
    } else {
      second_size = in.u16() % (256u << 10);
      std::memset(g_second, 0, second_size);
      for (size_t i = 0; i < second_size; i += 4096) g_second[i] = static_cast<uint8_t>(i >> 12);
    }
  }

  FuzzDevice image(image_bytes, image_size, sparse);
  FuzzDevice second(g_second, second_size, sparse);
  FuzzDevice same(image_bytes, image_size, sparse);
  FuzzDevice zeros(g_zeros, sizeof g_zeros, sparse);
  Setup setup;
  setup.image = &image;

  RunResult first{};
  for (;;) {
    first = run(request, setup, g_record);
    size_t record_size = first.record_size;
    auto decoded = instar::cli::decode_record(ByteSpan(g_record, record_size));
    // Every record the core writes decodes.
    INSTAR_FUZZ_CHECK(decoded.is_ok());
    INSTAR_FUZZ_CHECK(decoded.value().operation == static_cast<uint16_t>(instar::Operation::map));
    const RecordField& root = decoded.value().root;
    check_map(root, window, 1 + setup.attached_count);
    const RecordField* need = root.find(instar::kTagNeedDevice);
    if (need == nullptr || attach == 0 || setup.attached_count >= instar::kMaxAttached) break;
    auto role = need->u64_of(instar::kTagNeedRole);
    auto parent = need->u64_of(instar::kTagNeedParent);
    INSTAR_FUZZ_CHECK(role && parent && need->string_of(instar::kTagNeedName).has_value());
    INSTAR_FUZZ_CHECK(*role == static_cast<uint64_t>(instar::DeviceRole::backing) ||
                      *role == static_cast<uint64_t>(instar::DeviceRole::data_file));
    INSTAR_FUZZ_CHECK(*parent <= setup.attached_count);
    size_t slot = setup.attached_count++;
    request.attached[slot].role = static_cast<instar::DeviceRole>(*role);
    request.attached[slot].parent = static_cast<uint8_t>(*parent);
    setup.attached[slot] = attach == 1 ? &second : attach == 2 ? &same : &zeros;
  }

  // The same request again, with the scratch memory the first run used overwritten: the same record.
  std::memcpy(g_first_record, g_record, first.record_size);
  std::memset(g_scratch, 0xa5, first.scratch_used);
  RunResult again = run(request, setup, g_record);
  INSTAR_FUZZ_CHECK(again.record_size == first.record_size &&
                    std::memcmp(g_first_record, g_record, first.record_size) == 0);
  return 0;
}
