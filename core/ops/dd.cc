// dd.cc: qemu-img dd with a raw output. qemu reads the window block by block
// and writes every block, zeroes included, so the output is fully allocated;
// the last partial sector is padded with zeroes (the block layer's alignment).
#include "core/ops/dd.h"

#include "core/image/block_status.h"
#include "core/image/chain.h"
#include "core/ops/chain_open.h"
#include "core/ops/corruption_events.h"
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

// qemu-img dd reads and writes one block of `bs` bytes at a time (blocks start
// at w.start): when a read fails, every block before the failing one is in the
// output. instar reads several blocks at once; when that read fails, this finds
// the longest run of whole blocks from `pos` (before `limit`) that reads, by
// bisection (a few reads, not one per block), and writes it.
Result<void> copy_blocks_before_failure(image::Layer& top, BlockDevice& output, const DdWindow& w, uint64_t bs,
                                        uint64_t pos, uint64_t limit, uint8_t* buffer) {
  const uint64_t rest = bs - (pos - w.start) % bs;  // of pos's block
  if (rest > limit - pos) return ok();  // that block goes on past what failed to read
  const uint64_t first_end = pos + rest;
  const uint64_t whole = (limit - first_end) / bs;  // whole blocks after the first before limit
  auto end_of = [&](uint64_t blocks) {  // the end of the first `blocks` blocks from pos, at most limit
    return blocks - 1 > whole ? limit : first_end + (blocks - 1) * bs;
  };
  const uint64_t aligned = pos / kSector * kSector;
  auto reads = [&](uint64_t blocks) {
    uint64_t n = image::file_length(end_of(blocks)) - aligned;
    return image::read_chain(top, aligned, buffer, static_cast<size_t>(n)).is_ok();
  };
  uint64_t good = 0, bad = whole + 2;  // reading `bad` blocks (to limit, the whole chunk) fails
  while (bad - good > 1) {
    uint64_t mid = good + (bad - good) / 2;
    if (reads(mid)) {
      good = mid;
    } else {
      bad = mid;
    }
  }
  if (good == 0 || !reads(good)) return ok();
  return output.write(pos - w.start, buffer + (pos - aligned), static_cast<size_t>(end_of(good) - pos));
}

// Reads the block that starts at `pos`, a chunk at a time into `buffer`, only to find whether all of
// it reads: done once for each block larger than a chunk.
Result<void> read_block_rest(image::Layer& top, const DdWindow& w, uint64_t bs, uint64_t pos, uint64_t end,
                             uint8_t* buffer) {
  uint64_t block_end = w.start + ((pos - w.start) / bs + 1) * bs;
  if (block_end > end) block_end = end;
  uint64_t at = pos / kSector * kSector;
  uint64_t stop = image::file_length(block_end);
  while (at < stop) {
    uint64_t n = stop - at < kBufferBytes ? stop - at : kBufferBytes;
    INSTAR_TRY(image::read_chain(top, at, buffer, static_cast<size_t>(n)));
    at += n;
  }
  return ok();
}

Result<void> copy_window(image::Layer& top, BlockDevice& output, const DdWindow& w, uint64_t bs, uint64_t out_size,
                         Arena& scratch) {
  INSTAR_TRY_ASSIGN(buffer, scratch.allocate(static_cast<size_t>(kBufferBytes)));
  uint64_t end = w.start + w.length;
  uint64_t read_end = image::file_length(end);
  uint64_t pos = w.start;
  while (pos < end) {
    // Read whole sectors: the layers answer on sector boundaries.
    uint64_t aligned = pos / kSector * kSector;
    uint64_t n = read_end - aligned < kBufferBytes ? read_end - aligned : kBufferBytes;
    auto read = image::read_chain(top, aligned, buffer, static_cast<size_t>(n));
    if (read.is_error()) {
      // Reads in chunks of several blocks: the blocks qemu wrote before the one that fails.
      uint64_t limit = aligned + n < end ? aligned + n : end;
      INSTAR_TRY(copy_blocks_before_failure(top, output, w, bs, pos, limit, buffer));
      return read.error();
    }
    uint64_t take = (aligned + n < end ? aligned + n : end) - pos;
    if (pos + take < end) {
      // Write whole blocks only: qemu writes a block once all of it was read, so a later read that
      // fails inside a block must find none of it written.
      uint64_t rel = pos - w.start, whole = (rel + take) / bs * bs;
      if (whole > rel) {
        take = whole - rel;
      } else if (rel % bs == 0) {
        // A block larger than a chunk, at its start: read all of it first; a failure writes nothing of it.
        INSTAR_TRY(read_block_rest(top, w, bs, pos, end, buffer));
        INSTAR_TRY(image::read_chain(top, aligned, buffer, static_cast<size_t>(n)));
      }
    }
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
  chain.reads_only = true;  // qemu-img dd reads; it never asks for block status
  CorruptionEventsOnExit events(out, chain);
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
  auto copied = copy_window(*chain.top, *output, w, bs, out_size, scratch);
  if (copied.is_error()) write_error(out, copied.error());
}

}  // namespace instar
