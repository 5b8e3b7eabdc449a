// compare_fuzzer.cc: the whole core entry point, execute(compare), on two images cut from the input, with
// both profiles, -s or not, formats given or probed, sparse or dense devices, and the second image, backing
// and data files attached when core asks for them, as cli/chain/chain_session.cc does.
//
// Invariants: execute() succeeds and its record decodes as a compare record; a record is a device request,
// an open error, or both sizes and a verdict (a known result; a mismatch offset inside the longer image; a
// strict size mismatch only for different sizes; the size warning only without -s and for different sizes;
// an error message with every failure); comparing an image with itself (the same bytes as both images) never
// reports a content mismatch; the -p progress runs (always requested) decode, start at 0.00 and the
// size warning's split lies inside them; and running the same request again, with the scratch memory overwritten,
// gives the same record.
//
// Input (docs/fuzzing.md, "compare"): selector byte
//   bit 0: qemu 10.0 rules (else 7.2)        bit 1: -s
//   bit 2: -f qcow2 for the first image      bit 3: -F qcow2 for the second (else both probed)
//   bit 4: sparse devices (zero 4 KiB blocks are holes), else all data
//   bit 5: the second image is the first one's bytes again
//   bit 6: backing and data file requests get a raw file of zeros (else the other image)
// then a u32 whose value modulo the rest's length + 1 is the first image's length; the rest is the second.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cli/progress/progress_lines.h"
#include "cli/record_decoder.h"
#include "core/io/memory_block_device.h"
#include "core/ops/compare_record.h"
#include "core/ops/execute.h"
#include "core/ops/info_record.h"
#include "fuzz-targets/fuzz_support.h"
#include "fuzz-targets/sparse_fuzz_device.h"

namespace {

using instar::ByteSpan;
using instar::cli::RecordField;
using instar::fuzz::InputReader;

constexpr size_t kScratchBytes = 160u << 20;
constexpr size_t kRecordBytes = 1u << 20;
uint8_t g_zeros[64u << 10];
uint8_t g_scratch[kScratchBytes];
uint8_t g_record[kRecordBytes];
uint8_t g_first_record[kRecordBytes];

using FuzzDevice = instar::fuzz::SparseFuzzDevice;

struct Setup {
  FuzzDevice* image = nullptr;
  FuzzDevice* attached[instar::kMaxAttached] = {};
  size_t attached_count = 0;
};

struct RunResult {
  size_t record_size;
  size_t scratch_used;
};

RunResult run(const instar::Request& request, const Setup& setup) {
  instar::Devices devices;
  devices.image = setup.image;
  for (size_t i = 0; i < setup.attached_count; i++) devices.attached[i] = setup.attached[i];
  instar::Arena scratch(g_scratch, sizeof g_scratch);
  instar::RecordWriter writer(g_record, kRecordBytes);
  auto executed = instar::execute(request, devices, scratch, writer);
  INSTAR_FUZZ_CHECK(executed.is_ok());
  INSTAR_FUZZ_CHECK(!writer.failed());
  return RunResult{writer.size(), scratch.used()};
}

void check_compare(const RecordField& root, bool strict, bool same_bytes) {
  bool error = root.find(instar::kTagErrorMessage) != nullptr;
  if (error) INSTAR_FUZZ_CHECK(root.string_of(instar::kTagErrorMessage).value_or("") != "");
  if (root.find(instar::kTagNeedDevice) != nullptr) {
    INSTAR_FUZZ_CHECK(root.find(instar::kCompareResult) == nullptr && !error);
    return;
  }
  if (root.find(instar::kCompareOpened2) == nullptr) {
    // An open failed: an error and no verdict.
    INSTAR_FUZZ_CHECK(error && root.find(instar::kCompareResult) == nullptr);
    return;
  }
  INSTAR_FUZZ_CHECK(root.find(instar::kCompareOpened1) != nullptr);
  auto size1 = root.u64_of(instar::kCompareSize1), size2 = root.u64_of(instar::kCompareSize2);
  auto result = root.u64_of(instar::kCompareResult), offset = root.u64_of(instar::kCompareOffset);
  if (!result) {
    INSTAR_FUZZ_CHECK(error);  // the buffers did not fit
    return;
  }
  INSTAR_FUZZ_CHECK(size1 && size2 && offset);
  uint64_t longer = *size1 > *size2 ? *size1 : *size2;
  bool warning = root.find(instar::kCompareSizeWarning) != nullptr;
  if (warning) INSTAR_FUZZ_CHECK(!strict && *size1 != *size2);
  // -p: the progress runs decode, start with qemu's 0.00 line, and the size warning splits them.
  auto progress = instar::cli::decode_progress(root);
  INSTAR_FUZZ_CHECK(progress.is_ok());
  INSTAR_FUZZ_CHECK(!progress.value().runs.empty() && progress.value().runs[0].value == 0);
  if (warning) {
    auto before = root.u64_of(instar::kCompareLinesBeforeWarning);
    INSTAR_FUZZ_CHECK(before && *before >= 1 && *before <= progress.value().total);
  }
  using R = instar::CompareResult;
  switch (static_cast<R>(*result)) {
    case R::identical:
      INSTAR_FUZZ_CHECK(!error && (warning || *size1 == *size2));
      break;
    case R::content_mismatch:
      // Not always sector-aligned: with a raw file ending inside a sector, qemu-img reports the byte
      // where the file's data/hole status changes (1-byte vs 2-byte raw files: "offset 1", checked).
      INSTAR_FUZZ_CHECK(!error && *offset < longer);
      INSTAR_FUZZ_CHECK(!same_bytes);
      break;
    case R::status_mismatch:
      INSTAR_FUZZ_CHECK(strict && !error && *offset < longer);
      break;
    case R::size_mismatch:
      INSTAR_FUZZ_CHECK(strict && *size1 != *size2 && !error);
      break;
    case R::status_failed:
    case R::read_failed: {
      auto image = root.u64_of(instar::kCompareImage);
      INSTAR_FUZZ_CHECK(error && image && (*image == 1 || *image == 2));
      break;
    }
    default:
      INSTAR_FUZZ_CHECK(false);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  InputReader in(ByteSpan(data, size));
  uint8_t selector = in.u8();
  uint32_t cut = in.u32();
  ByteSpan rest = in.rest();
  size_t first_size = cut % (rest.size + 1);
  bool same = (selector & 0x20) != 0;
  const uint8_t* second_data = same ? rest.data : rest.data + first_size;
  size_t second_size = same ? first_size : rest.size - first_size;
  bool sparse = (selector & 0x10) != 0;
  bool strict = (selector & 2) != 0;

  instar::Request request;
  request.operation = instar::Operation::compare;
  bool qemu_10 = (selector & 1) != 0;
  request.qemu_major = qemu_10 ? 10 : 7;
  request.qemu_minor = qemu_10 ? 0 : 2;
  std::memcpy(request.name_tail, "a.img", sizeof "a.img");
  std::memcpy(request.name_tail2, "b.img", sizeof "b.img");
  request.compare.strict = strict;
  request.compare.progress = true;  // the meter never changes the verdict; its runs are checked
  if ((selector & 4) != 0) {
    request.format_given = true;
    request.format = instar::ImageFormat::qcow2;
  }
  if ((selector & 8) != 0) {
    request.format2_given = true;
    request.format2 = instar::ImageFormat::qcow2;
  }
  // The first image's bytes as both images with the same format: never a content mismatch.
  bool same_bytes = same && request.format_given == request.format2_given;

  FuzzDevice first(rest.data, first_size, sparse);
  FuzzDevice second(second_data, second_size, sparse);
  FuzzDevice other(second_data, second_size, sparse);
  FuzzDevice zeros(g_zeros, sizeof g_zeros, sparse);
  Setup setup;
  setup.image = &first;

  RunResult result{};
  for (;;) {
    result = run(request, setup);
    auto decoded = instar::cli::decode_record(ByteSpan(g_record, result.record_size));
    INSTAR_FUZZ_CHECK(decoded.is_ok());
    INSTAR_FUZZ_CHECK(decoded.value().operation == static_cast<uint16_t>(instar::Operation::compare));
    const RecordField& root = decoded.value().root;
    // Backing files attached here are not the ones an image names, so content checks hold only without them.
    check_compare(root, strict, same_bytes && setup.attached_count <= 1);
    const RecordField* need = root.find(instar::kTagNeedDevice);
    if (need == nullptr || setup.attached_count >= instar::kMaxAttached) break;
    auto role = need->u64_of(instar::kTagNeedRole);
    auto parent = need->u64_of(instar::kTagNeedParent);
    INSTAR_FUZZ_CHECK(role && parent);
    INSTAR_FUZZ_CHECK(*parent <= setup.attached_count);
    size_t slot = setup.attached_count++;
    request.attached[slot].role = static_cast<instar::DeviceRole>(*role);
    request.attached[slot].parent = static_cast<uint8_t>(*parent);
    if (*role == static_cast<uint64_t>(instar::DeviceRole::second_image)) {
      setup.attached[slot] = &second;
    } else {
      INSTAR_FUZZ_CHECK(*role == static_cast<uint64_t>(instar::DeviceRole::backing) ||
                        *role == static_cast<uint64_t>(instar::DeviceRole::data_file));
      setup.attached[slot] = (selector & 0x40) != 0 ? &zeros : &other;
    }
  }

  // The same request again, with the scratch memory the first run used overwritten: the same record.
  std::memcpy(g_first_record, g_record, result.record_size);
  std::memset(g_scratch, 0xa5, result.scratch_used);
  RunResult again = run(request, setup);
  INSTAR_FUZZ_CHECK(again.record_size == result.record_size &&
                    std::memcmp(g_first_record, g_record, result.record_size) == 0);
  return 0;
}
