// info_fuzzer.cc: the whole core entry point, execute(info), on any image; its record must decode and make
// sense.
//
// Input: one selector byte, then the image (docs/fuzzing.md):
//   bits 0-1: 0 or 1 probe the format, 2 force qcow2 (-f qcow2), 3 force raw (-f raw)
//   bit 2: qemu 10.0 rules (else 7.2)   bit 3: the image is named "disk.dmg" (else "disk.img")
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cli/record_decoder.h"
#include "core/io/memory_block_device.h"
#include "core/ops/execute.h"
#include "core/ops/info_record.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

using instar::ByteSpan;
using instar::ImageFormat;
using instar::cli::RecordField;

// The same memory the CLI gives core/ (cli/run_core.cc): a 1 MiB image never needs more than a few MiB of
// either, and untouched pages cost nothing.
constexpr size_t kScratchBytes = 160u << 20;
constexpr size_t kRecordBytes = instar::cli::kMaxRecordSize;
uint8_t g_scratch[kScratchBytes];
uint8_t g_record[kRecordBytes];
uint8_t g_first_record[kRecordBytes];

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

struct RunResult {
  size_t record_size;
  size_t scratch_used;
};

RunResult run(const instar::Request& request, ByteSpan image) {
  instar::MemoryBlockDevice device(image.data, image.size);
  instar::Devices devices;
  devices.image = &device;
  instar::Arena scratch(g_scratch, sizeof g_scratch);
  instar::RecordWriter writer(g_record, sizeof g_record);
  auto executed = instar::execute(request, devices, scratch, writer);
  // A record for a 1 MiB image always fits the CLI's 64 MiB.
  INSTAR_FUZZ_CHECK(executed.is_ok());
  INSTAR_FUZZ_CHECK(!writer.failed());
  INSTAR_FUZZ_CHECK(writer.data() == g_record && writer.size() <= sizeof g_record);
  return RunResult{writer.size(), scratch.used()};
}

void check_error(const RecordField& root) {
  auto message = root.string_of(instar::kTagErrorMessage);
  INSTAR_FUZZ_CHECK(message.has_value() && !message->empty());
  auto code = root.u64_of(instar::kTagErrorCode);
  INSTAR_FUZZ_CHECK(code.has_value() && *code <= static_cast<uint64_t>(instar::Errc::no_space));
  INSTAR_FUZZ_CHECK(root.u64_of(instar::kTagErrorDetail).has_value() ==
                    root.u64_of(instar::kTagErrorDetail2).has_value());
  INSTAR_FUZZ_CHECK(root.find(instar::kInfoFormat) == nullptr);
}

void check_qcow2(const RecordField& root) {
  auto cluster = root.u64_of(instar::kInfoClusterSize);
  INSTAR_FUZZ_CHECK(cluster.has_value() && is_power_of_two(*cluster) && *cluster >= 512 &&
                    *cluster <= (2u << 20));
  auto version = root.u64_of(instar::kInfoQcow2Version);
  INSTAR_FUZZ_CHECK(version == 2u || version == 3u);
  auto refcount_bits = root.u64_of(instar::kInfoRefcountBits);
  INSTAR_FUZZ_CHECK(refcount_bits.has_value() && is_power_of_two(*refcount_bits) && *refcount_bits <= 64);
  INSTAR_FUZZ_CHECK(root.u64_of(instar::kInfoCompressionType).value_or(9) <= 1);
  auto backing = root.string_of(instar::kInfoBackingName);
  if (backing) INSTAR_FUZZ_CHECK(!backing->empty() && backing->find('\0') == std::string::npos);
  if (root.find(instar::kInfoBackingFormat) != nullptr) INSTAR_FUZZ_CHECK(backing.has_value());
  for (const RecordField* s : root.find_all(instar::kInfoSnapshot)) {
    INSTAR_FUZZ_CHECK(s->is_group);
    INSTAR_FUZZ_CHECK(s->string_of(instar::kInfoSnapshotId).has_value());
    INSTAR_FUZZ_CHECK(s->string_of(instar::kInfoSnapshotName).has_value());
  }
  for (const RecordField* b : root.find_all(instar::kInfoBitmap)) {
    INSTAR_FUZZ_CHECK(b->is_group && *version == 3);
    auto granularity = b->u64_of(instar::kInfoBitmapGranularity);
    INSTAR_FUZZ_CHECK(granularity.has_value() && is_power_of_two(*granularity) && *granularity >= 512);
    INSTAR_FUZZ_CHECK(b->u64_of(instar::kInfoBitmapFlags).value_or(4) <= 3);
  }
  const RecordField* encryption = root.find(instar::kInfoEncryption);
  INSTAR_FUZZ_CHECK(root.bool_of(instar::kInfoEncrypted) || encryption == nullptr);
  if (encryption != nullptr) {
    auto format = encryption->string_of(instar::kInfoEncryptionFormat);
    INSTAR_FUZZ_CHECK(format == "aes" || format == "luks");
    if (format == "luks") INSTAR_FUZZ_CHECK(encryption->find_all(instar::kInfoLuksSlot).size() == 8);
  }
}

void check_record(ByteSpan record, ImageFormat expected, bool raw_forced, size_t image_size) {
  auto decoded = instar::cli::decode_record(record);
  // Every record the core writes decodes.
  INSTAR_FUZZ_CHECK(decoded.is_ok());
  INSTAR_FUZZ_CHECK(decoded.value().operation == static_cast<uint16_t>(instar::Operation::info));
  const RecordField& root = decoded.value().root;

  auto format_name = root.string_of(instar::kInfoFormat);
  if (!format_name) {
    // raw opens anything.
    INSTAR_FUZZ_CHECK(!raw_forced);
    check_error(root);
    return;
  }
  INSTAR_FUZZ_CHECK(root.find(instar::kTagErrorMessage) == nullptr);
  ImageFormat format = ImageFormat::dmg;
  INSTAR_FUZZ_CHECK(instar::image_format_from_name(format_name->c_str(), format));
  INSTAR_FUZZ_CHECK(format == expected);
  auto virtual_size = root.u64_of(instar::kInfoVirtualSize);
  INSTAR_FUZZ_CHECK(virtual_size.has_value() && *virtual_size % 512 == 0);
  if (format == ImageFormat::raw) {
    INSTAR_FUZZ_CHECK(*virtual_size == (image_size + 511) / 512 * 512);
    INSTAR_FUZZ_CHECK(root.find(instar::kInfoClusterSize) == nullptr);
  } else {
    INSTAR_FUZZ_CHECK(format == ImageFormat::qcow2);
    check_qcow2(root);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > instar::fuzz::kMaxInputBytes) return 0;
  uint8_t selector = data[0];
  ByteSpan image(data + 1, size - 1);

  instar::Request request;
  request.operation = instar::Operation::info;
  bool qemu_10 = (selector & 4) != 0;
  request.qemu_major = qemu_10 ? 10 : 7;
  request.qemu_minor = qemu_10 ? 0 : 2;
  const char* name = (selector & 8) != 0 ? "disk.dmg" : "disk.img";
  std::memcpy(request.name_tail, name, std::strlen(name) + 1);
  ImageFormat expected;
  switch (selector & 3) {
    case 2:
      request.format_given = true;
      request.format = expected = ImageFormat::qcow2;
      break;
    case 3:
      request.format_given = true;
      request.format = expected = ImageFormat::raw;
      break;
    default: {
      instar::MemoryBlockDevice device(image.data, image.size);
      auto probed = instar::probe_device(
          device, name, qemu_10 ? instar::ProbeOrder::qemu_10_0 : instar::ProbeOrder::qemu_7_2);
      INSTAR_FUZZ_CHECK(probed.is_ok());
      expected = probed.value();
      break;
    }
  }

  RunResult first = run(request, image);
  check_record(ByteSpan(g_record, first.record_size), expected, (selector & 3) == 3, image.size);

  // The same request gives the same record, even when the scratch memory held something else: nothing
  // depends on memory the core did not write.
  std::memcpy(g_first_record, g_record, first.record_size);
  std::memset(g_scratch, 0xa5, first.scratch_used);
  RunResult second = run(request, image);
  INSTAR_FUZZ_CHECK(second.record_size == first.record_size);
  INSTAR_FUZZ_CHECK(std::memcmp(g_first_record, g_record, first.record_size) == 0);
  return 0;
}
