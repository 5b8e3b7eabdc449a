// dispatcher.cc: guest_main: read the request the host placed in boot info,
// run core/'s entry point over hypercall devices, send the result record.
#include "core/ops/execute.h"
#include "guest/hypercall.h"
#include "guest/hypercall_block_device.h"
#include "guest/malloc.h"

extern "C" uint8_t guest_heap_start[];

namespace instar::guest {
namespace {

constexpr uint64_t kMaxRecordBytes = 64ull << 20;
constexpr uint64_t kMaxHeapBytes = 64ull << 20;

[[noreturn]] void run() {
  auto* boot = reinterpret_cast<volatile instar_boot_info*>(INSTAR_GPA_BOOT_INFO);
  if (boot->abi_version != INSTAR_ABI_VERSION || boot->request_bytes != sizeof(Request)) guest_exit(2);
  Request request;
  auto* raw = reinterpret_cast<uint8_t*>(&request);
  for (size_t i = 0; i < sizeof request; i++) raw[i] = boot->request[i];

  HypercallBlockDevice image(0);
  Devices devices{image.present() ? &image : nullptr};
  // Attached devices 1..n: as many as the host says it gave.
  HypercallBlockDevice attached[kMaxAttached];
  uint32_t count = boot->device_count;
  for (uint32_t i = 0; i + 1 < count && i < kMaxAttached; i++) {
    attached[i].attach(i + 1);
    if (attached[i].present()) devices.attached[i] = &attached[i];
  }

  // Everything between the end of the image and the end of RAM is ours: a
  // quarter for the record (at most 64 MiB), an eighth for the C libraries'
  // malloc (at most 64 MiB: zlib's and libzstd's contexts and buffers), the
  // rest for core's scratch arena.
  uint64_t heap = reinterpret_cast<uint64_t>(guest_heap_start);
  uint64_t memory = boot->memory_bytes;
  if (memory <= heap) guest_exit(2);
  uint64_t free_bytes = memory - heap;
  uint64_t record_bytes = free_bytes / 4 < kMaxRecordBytes ? free_bytes / 4 : kMaxRecordBytes;
  uint64_t malloc_bytes = free_bytes / 8 < kMaxHeapBytes ? free_bytes / 8 : kMaxHeapBytes;
  uint8_t* record = guest_heap_start;
  heap_init(guest_heap_start + record_bytes, static_cast<size_t>(malloc_bytes));
  uint8_t* scratch = guest_heap_start + record_bytes + malloc_bytes;
  Arena arena(scratch, static_cast<size_t>(free_bytes - record_bytes - malloc_bytes));
  RecordWriter writer(record, static_cast<size_t>(record_bytes));
  if (execute(request, devices, arena, writer).is_error()) guest_exit(6);
  // Operations flush what they write before they report success; a write still held back here
  // failing means one did not, and the run ends without a result rather than with a wrong one.
  if (image.flush().is_error()) guest_exit(9);
  for (auto& device : attached)
    if (device.flush().is_error()) guest_exit(9);
  instar_hc_result result{reinterpret_cast<uint64_t>(writer.data()), writer.size(), INSTAR_HC_EIO, 0};
  hypercall(INSTAR_HC_RESULT, &result);
  guest_exit(result.status == INSTAR_HC_OK ? 0 : 7);
}

}  // namespace
}  // namespace instar::guest

extern "C" [[noreturn]] void guest_main() { instar::guest::run(); }
