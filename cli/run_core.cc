// run_core.cc: in-process execution of core/ with bounded scratch and record memory.
#include "cli/run_core.h"

#include <memory>

namespace instar::cli {

namespace {
// qemu's own ceilings (a 64 MiB snapshot table or bitmap directory) fit in these.
constexpr size_t kScratchBytes = 160u << 20;
constexpr size_t kRecordBytes = kMaxRecordSize;
}  // namespace

Result<DecodedRecord> run_core(const Request& request, const Devices& devices) {
  // Uninitialised on purpose: untouched pages cost nothing.
  std::unique_ptr<uint8_t[]> scratch_memory(new uint8_t[kScratchBytes]);
  std::unique_ptr<uint8_t[]> record_memory(new uint8_t[kRecordBytes]);
  Arena scratch(scratch_memory.get(), kScratchBytes);
  RecordWriter writer(record_memory.get(), kRecordBytes);
  INSTAR_TRY(execute(request, devices, scratch, writer));
  return decode_record(ByteSpan(writer.data(), writer.size()));
}

}  // namespace instar::cli
