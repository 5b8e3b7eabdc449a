// dd.cc: qemu-img dd with a raw output. qemu reads the window block by block
// and writes every block, zeroes included, so the output is fully allocated;
// the last partial sector is padded with zeroes (the block layer's alignment).
#include "core/ops/dd.h"

#include "core/image/block_status.h"
#include "core/image/chain.h"
#include "core/ops/chain_open.h"
#include "core/ops/dd_record.h"
#include "core/ops/info.h"

namespace instar {

namespace {

constexpr uint64_t kSector = 512;
constexpr uint64_t kBufferBytes = 2u << 20;
constexpr uint64_t kInt64Max = 0x7fffffffffffffffull;
// qemu's block layer refuses a request larger than BDRV_REQUEST_MAX_BYTES (INT_MAX
// rounded down to a sector) with EIO, before it reads anything.
constexpr uint64_t kMaxRequestBytes = 0x7fffffffull / kSector * kSector;

Result<void> copy_window(image::Layer& top, BlockDevice& output, const DdWindow& w, uint64_t out_size,
                         Arena& scratch) {
  INSTAR_TRY_ASSIGN(buffer, scratch.allocate(static_cast<size_t>(kBufferBytes)));
  uint64_t end = w.start + w.length;
  uint64_t read_end = image::file_length(end);
  uint64_t pos = w.start;
  while (pos < end) {
    // Read whole sectors: the layers answer on sector boundaries.
    uint64_t aligned = pos / kSector * kSector;
    uint64_t n = read_end - aligned < kBufferBytes ? read_end - aligned : kBufferBytes;
    INSTAR_TRY(image::read_chain(top, aligned, buffer, static_cast<size_t>(n)));
    uint64_t take = (aligned + n < end ? aligned + n : end) - pos;
    INSTAR_TRY(output.write(pos - w.start, buffer + (pos - aligned), static_cast<size_t>(take)));
    pos += take;
  }
  if (out_size > w.length) {
    for (size_t i = 0; i < kSector; i++) buffer[i] = 0;
    INSTAR_TRY(output.write(w.length, buffer, static_cast<size_t>(out_size - w.length)));
  }
  return output.flush();
}

}  // namespace

DdWindow dd_window(const DdParams& params, uint64_t size) {
  DdWindow w;
  uint64_t bs = params.block_size == 0 ? 1 : params.block_size;
  uint64_t end = size;
  if (params.has_count && params.count <= kInt64Max / bs && params.count * bs < end) end = params.count * bs;
  if (params.skip > kInt64Max / bs || params.skip * bs > end) {
    w.skip_failed = true;
    w.start = end;
  } else {
    w.start = params.skip * bs;
  }
  w.length = end - w.start;
  return w;
}

void run_dd(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out) {
  image::Chain chain;
  if (!open_chain_or_report(request, devices, scratch, chain, out)) return;
  BlockDevice* output = nullptr;
  for (size_t i = 0; i < kMaxAttached; i++)
    if (request.attached[i].role == DeviceRole::output && devices.attached[i] != nullptr) output = devices.attached[i];
  DdWindow w = dd_window(request.dd, chain.top->size);
  uint64_t out_size = image::file_length(w.length);
  if (output == nullptr) {
    out.begin(kTagNeedDevice);
    out.put_u64(kTagNeedRole, static_cast<uint64_t>(DeviceRole::output));
    out.put_u64(kTagNeedParent, 0);
    out.put_bytes(kTagNeedName, ByteSpan());
    out.put_u64(kTagNeedSize, out_size);
    out.end(kTagNeedDevice);
    return;
  }
  out.put_u64(kDdWindowStart, w.start);
  out.put_u64(kDdWindowLength, w.length);
  if (w.skip_failed) out.put_u64(kDdSkipFailed, 1);
  // qemu reads the window one block at a time; its first read, the largest,
  // decides whether a block size near 2 GiB fails. The output stays as created.
  uint64_t bs = request.dd.block_size == 0 ? 1 : request.dd.block_size;
  if ((bs < w.length ? bs : w.length) > kMaxRequestBytes) {
    write_error(out, make_error(Errc::io, "Input/output error"));
    return;
  }
  auto copied = copy_window(*chain.top, *output, w, out_size, scratch);
  if (copied.is_error()) write_error(out, copied.error());
}

}  // namespace instar
