// convert.cc: qemu-img convert's copy loop for a raw target (convert_do_copy,
// convert_iteration_sectors, is_allocated_sectors_min), one source.
#include "core/ops/convert.h"

#include "core/base/bytes.h"
#include "core/image/chain.h"
#include "core/ops/chain_open.h"
#include "core/ops/corruption_events.h"
#include "core/ops/convert_record.h"
#include "core/ops/info.h"
#include "core/ops/progress.h"

namespace instar {

namespace {

constexpr uint64_t kSector = 512;
constexpr uint64_t kBufferBytes = 2u << 20;  // qemu-img's IO_BUF_SIZE
// What one read covers where the device prefers large requests: consecutive data chunks. With writes
// behind, two of these are in use; 4 MiB (not 8) keeps them in the cache between read, scan and write
// (512 MiB of random data in kvm: 123-125 ms against 141-145 ms with 8 MiB, medians of 15 runs).
constexpr uint64_t kBatchBytes = 2 * kBufferBytes;

bool zero_sector(const uint8_t* p) { return all_zero(ByteSpan(p, kSector)); }

// is_allocated_sectors: the run of sectors from `buf` with the same zero-ness,
// allocated ends aligned up and zero ends aligned down to `alignment` sectors.
bool allocated_run(const uint8_t* buf, uint64_t n, uint64_t* pnum, uint64_t sector, uint64_t alignment) {
  if (n == 0) {
    *pnum = 0;
    return false;
  }
  bool is_zero = zero_sector(buf);
  uint64_t i = 1;
  for (; i < n; i++)
    if (zero_sector(buf + i * kSector) != is_zero) break;
  if (i == n) {
    *pnum = i;
    return !is_zero;
  }
  uint64_t tail = (sector + i) & (alignment - 1);
  if (tail) {
    if (is_zero && i <= tail) is_zero = false;  // a short zero tail counts as data
    if (!is_zero) {
      i += alignment - tail;
      if (i > n) i = n;
    } else {
      i -= tail;
    }
  }
  *pnum = i;
  return !is_zero;
}

// is_allocated_sectors_min: zero runs shorter than `min` sectors count as data.
bool allocated_run_min(const uint8_t* buf, uint64_t n, uint64_t* pnum, uint64_t min, uint64_t sector,
                       uint64_t alignment) {
  if (n < min) min = n;
  bool allocated = allocated_run(buf, n, pnum, sector, alignment);
  if (!allocated) return false;
  uint64_t used = *pnum, checked = *pnum;
  buf += *pnum * kSector;
  n -= *pnum;
  sector += *pnum;
  while (n > 0) {
    bool a = allocated_run(buf, n, pnum, sector, alignment);
    buf += *pnum * kSector;
    n -= *pnum;
    sector += *pnum;
    checked += *pnum;
    if (a) {
      used = checked;
    } else if (*pnum >= min) {
      break;
    }
  }
  *pnum = used;
  return true;
}

uint64_t pow2floor(uint64_t v) {
  uint64_t p = 1;
  while (p <= v / 2) p <<= 1;
  return v == 0 ? 0 : p;
}

// Writes `length` zero bytes (allocating them) through a zeroed scratch buffer.
Result<void> write_zero_bytes(BlockDevice& output, uint64_t offset, uint64_t length, uint8_t* buffer) {
  size_t chunk = length < kBufferBytes ? static_cast<size_t>(length) : static_cast<size_t>(kBufferBytes);
  for (size_t i = 0; i < chunk; i++) buffer[i] = 0;
  while (length > 0) {
    size_t n = length < chunk ? static_cast<size_t>(length) : chunk;
    INSTAR_TRY(output.write(offset, buffer, n));
    offset += n;
    length -= n;
  }
  return ok();
}

// One iteration of qemu's copy loop (convert_iteration_sectors): a run of
// data (to read and scan) or of zeroes.
struct Chunk {
  uint64_t length = 0;
  bool data = false;
};

struct Walk {
  uint64_t total = 0;
  uint64_t min_sectors = 0;    // -S in sectors; 0: every byte is written
  uint64_t alignment = 1;      // sectors: the sparse detection's alignment
  uint64_t src_alignment = 1;  // sectors: the source's cluster size (qcow2), else 1
};

// qemu's cached block status (sector_next_status): [.., end) has one kind.
struct StatusCursor {
  uint64_t end = 0;
  bool data = false;
};

// Where the copy failed, for qemu-img's message: a read names the start of its chunk, a block status
// query the offset it asked about (convert_iteration_sectors).
struct Failure {
  bool status = false;  // the block status query failed, not a read
  uint64_t offset = 0;
};

// qemu asks for the status of at most BDRV_REQUEST_MAX_SECTORS at a time.
constexpr uint64_t kMaxStatusBytes = (uint64_t{0x7fffffff} >> 9) << 9;

Result<Chunk> next_chunk(image::Chain& chain, const Walk& walk, StatusCursor& cursor, uint64_t offset,
                         Failure& failure) {
  if (cursor.end <= offset) {
    uint64_t query = walk.total - offset < kMaxStatusBytes ? walk.total - offset : kMaxStatusBytes;
    auto status = image::chain_status(*chain.top, offset, query);
    if (status.is_error() || status.value().status.length == 0) {
      failure = Failure{true, offset};
      if (status.is_error()) return status.error();
      return make_error(Errc::io, "Input/output error");
    }
    // Whole sectors (a raw file's partial last sector counts as one), and the
    // status's end kept on the source's alignment unless that would empty it.
    uint64_t sectors = (status.value().status.length + kSector - 1) / kSector;
    uint64_t tail = (offset / kSector + sectors) % walk.src_alignment;
    if (sectors > tail) sectors -= tail;
    uint64_t end = offset + sectors * kSector;
    cursor.end = end < walk.total ? end : walk.total;
    const auto flags = status.value().status.flags;
    cursor.data = (flags & image::kData) && !(flags & image::kZero);
  }
  Chunk chunk;
  chunk.data = cursor.data;
  chunk.length = cursor.end - offset;
  // Data is read a buffer at a time; with -S 0 zeroes are written a buffer at a
  // time too; other zeroes are one chunk (it matters for which chunks qemu's
  // coroutines hold when a read fails).
  if ((chunk.data || walk.min_sectors == 0) && chunk.length > kBufferBytes) chunk.length = kBufferBytes;
  return chunk;
}

// Whether qemu counts the chunk in its progress: data, and zeroes written with -S 0.
bool counts_for_progress(const Chunk& chunk, const Walk& walk) { return chunk.data || walk.min_sectors == 0; }

uint64_t sectors_of(uint64_t bytes) { return (bytes + kSector - 1) / kSector; }

// qemu's first pass (convert_do_copy): the sectors the progress meter counts.
Result<uint64_t> progress_sectors(image::Chain& chain, const Walk& walk, Failure& failure) {
  uint64_t sectors = 0;
  StatusCursor cursor;
  for (uint64_t offset = 0; offset < walk.total;) {
    INSTAR_TRY_ASSIGN(chunk, next_chunk(chain, walk, cursor, offset, failure));
    if (counts_for_progress(chunk, walk)) sectors += sectors_of(chunk.length);
    offset += chunk.length;
  }
  return sectors;
}

// `failure`: where it failed, when it fails (qemu-img names it).
Result<uint64_t> copy(image::Chain& chain, BlockDevice& output, const ConvertParams& params, Arena& scratch,
                      ProgressMeter& meter, Failure& failure) {
  Walk walk;
  walk.total = chain.top->size;
  // A new file reads as zeroes; with -S 0 qemu writes zeroes anyway (a fully allocated target).
  bool zero_init = params.min_sparse != 0 && (!params.skip_create || params.target_is_zero);
  bool unmap = params.min_sparse != 0;
  walk.min_sectors = params.min_sparse / kSector;
  walk.alignment = walk.min_sectors > 0 ? pow2floor(walk.min_sectors) : 1;
  if (chain.format_of[0] == ImageFormat::qcow2) walk.src_alignment = chain.qcow2[0].cluster_size() / kSector;
  uint64_t progress_total = 0, progress_done = 0;
  if (params.progress) {
    INSTAR_TRY_ASSIGN(counted, progress_sectors(chain, walk, failure));
    progress_total = counted;
  }
  // qemu prints the step when a coroutine takes the chunk, before reading it.
  auto step = [&](const Chunk& chunk) {
    if (!params.progress || !counts_for_progress(chunk, walk) || progress_total == 0) return;
    progress_done += sectors_of(chunk.length);
    meter.print(convert_progress_value(progress_done, progress_total), 0);
  };
  // Whether a chunk makes its coroutine wait for I/O: all but zeroes left to a zeroed target.
  auto waits = [&](const Chunk& chunk) { return chunk.data || walk.min_sectors == 0 || !zero_init; };
  bool waited = false;
  const bool batching = output.prefers_large_requests();
  const uint64_t batch_bytes = batching ? kBatchBytes : kBufferBytes;
  // Where writes go on in the background (write_behind), two buffers take turns: a batch is read into
  // one while the other's data is still being written.
  INSTAR_TRY_ASSIGN(first_buffer, scratch.allocate(static_cast<size_t>(batch_bytes)));
  uint8_t* buffers[2] = {first_buffer, first_buffer};
  if (batching) {
    INSTAR_TRY_ASSIGN(second_buffer, scratch.allocate(static_cast<size_t>(batch_bytes)));
    buffers[1] = second_buffer;
  }
  uint8_t* buffer = buffers[0];
  // `buffer` holds the source's [batch_offset, batch_offset + batch_length): a run of consecutive data
  // chunks read at once. Each read is a VM exit in the guest, so there reads cover several of qemu's
  // 2 MiB chunks where the data goes on, and writes of data contiguous in the target and in the buffer
  // are merged (`pending`) and written behind (the host writes one batch while the next is read);
  // each chunk is still stepped, scanned and judged as qemu does. Elsewhere a batch is one chunk,
  // which stays in the cache while it is scanned and written.
  uint64_t batch_offset = 0, batch_length = 0;
  struct {
    uint64_t offset = 0;
    const uint8_t* data = nullptr;
    uint64_t length = 0;
  } pending;
  auto flush_pending = [&]() -> Result<void> {
    if (pending.length == 0) return ok();
    uint64_t length = pending.length;
    pending.length = 0;
    if (batching) return output.write_behind(pending.offset, pending.data, static_cast<size_t>(length));
    return output.write(pending.offset, pending.data, static_cast<size_t>(length));
  };
  auto queue_write = [&](uint64_t at, const uint8_t* data, uint64_t length) -> Result<void> {
    if (pending.length != 0 && pending.offset + pending.length == at && pending.data + pending.length == data) {
      pending.length += length;
      return ok();
    }
    INSTAR_TRY(flush_pending());
    pending.offset = at;
    pending.data = data;
    pending.length = length;
    return ok();
  };
  uint64_t written = 0;
  uint64_t offset = 0;
  StatusCursor cursor;
  auto copied = [&]() -> Result<void> {
    while (offset < walk.total) {
      INSTAR_TRY_ASSIGN(chunk, next_chunk(chain, walk, cursor, offset, failure));
      uint64_t n = chunk.length;
      step(chunk);
      bool first_wait = !waited && waits(chunk);
      waited = waited || first_wait;
      if (!chunk.data && walk.min_sectors == 0) {
        // -S 0: a fully allocated target; zeroes are written, not left as holes.
        INSTAR_TRY(flush_pending());
        INSTAR_TRY(output.flush());  // a write behind may still be reading `buffer`
        batch_length = 0;
        INSTAR_TRY(write_zero_bytes(output, offset, n, buffer));
        offset += n;
        continue;
      }
      if (!chunk.data) {
        if (!zero_init) {
          INSTAR_TRY(flush_pending());
          INSTAR_TRY(output.write_zeroes(offset, n, unmap));
        }
        offset += n;
        continue;
      }
      if (offset < batch_offset || offset + n > batch_offset + batch_length) {
        INSTAR_TRY(flush_pending());  // its bytes are in the buffer the read overwrites, or a write behind
        // The other buffer: its last write behind was waited for when this one's was handed over.
        if (batching) buffer = buffer == buffers[0] ? buffers[1] : buffers[0];
        batch_offset = offset;
        batch_length = 0;
        // The data chunks that follow, as far as the buffer goes (the same status queries the loop
        // makes next; a failing one ends the run and fails again in its turn).
        uint64_t want = n, at = offset + n;
        StatusCursor ahead = cursor;
        Failure ignored;
        while (batching && at < walk.total) {
          auto next = next_chunk(chain, walk, ahead, at, ignored);
          if (next.is_error() || !next.value().data || next.value().length > batch_bytes - want) break;
          want += next.value().length;
          at += next.value().length;
        }
        if (want > n && image::read_chain(*chain.top, offset, buffer, static_cast<size_t>(want)).is_ok()) {
          batch_length = want;
        } else {
          auto read = image::read_chain(*chain.top, offset, buffer, static_cast<size_t>(n));
          if (read.is_error()) {
            // qemu-img's first coroutine stops at the first chunk that waits for I/O;
            // each other coroutine then takes one chunk (and prints its step) before
            // any I/O completes. When that first chunk's read fails, with writes in
            // order, those are all the steps printed. Elsewhere, or with -W, what
            // the others took depends on I/O timing: instar prints none of it (as
            // qemu-img with -m 1; docs/divergences.md#convert-progress-read-error).
            if (first_wait && params.in_order) {
              StatusCursor following = cursor;
              uint64_t next_at = offset + n;
              for (uint8_t taken = 1; taken < params.coroutines && next_at < walk.total; taken++) {
                Failure unused;
                auto next = next_chunk(chain, walk, following, next_at, unused);
                if (next.is_error()) break;
                step(next.value());
                next_at += next.value().length;
              }
            }
            failure = Failure{false, offset};
            return read.error();
          }
          batch_length = n;
        }
      }
      const uint8_t* data = buffer + (offset - batch_offset);
      if (walk.min_sectors == 0) {
        INSTAR_TRY(queue_write(offset, data, n));
        written += n;
        offset += n;
        continue;
      }
      uint64_t sectors = n / kSector, sector = offset / kSector, done = 0;
      while (done < sectors) {
        uint64_t run = 0;
        bool allocated = allocated_run_min(data + done * kSector, sectors - done, &run, walk.min_sectors,
                                           sector + done, walk.alignment);
        if (run == 0) return make_error(Errc::io, "Input/output error");
        uint64_t at = offset + done * kSector, bytes = run * kSector;
        if (allocated) {
          INSTAR_TRY(queue_write(at, data + done * kSector, bytes));
          written += bytes;
        } else if (!zero_init) {
          INSTAR_TRY(flush_pending());
          INSTAR_TRY(output.write_zeroes(at, bytes, unmap));
        }
        done += run;
      }
      offset += n;
    }
    return ok();
  }();
  // What qemu wrote before a failure is in the target: the merged writes go out either way.
  auto flushed = flush_pending();
  if (copied.is_error()) {
    (void)output.flush();  // the first error is the one reported, as qemu-img reports one
    return copied.error();
  }
  INSTAR_TRY(flushed);
  INSTAR_TRY(output.flush());
  return written;
}

}  // namespace

void run_convert(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out) {
  image::Chain chain;
  CorruptionEventsOnExit events(out, chain);
  if (!open_chain_or_report(request, devices, scratch, chain, out)) return;
  BlockDevice* output = nullptr;
  for (size_t i = 0; i < kMaxAttached; i++)
    if (request.attached[i].role == DeviceRole::output && devices.attached[i] != nullptr) output = devices.attached[i];
  uint64_t total = chain.top->size;
  if (output == nullptr) {
    // The host creates the output once the source opened, at the source's size.
    out.begin(kTagNeedDevice);
    out.put_u64(kTagNeedRole, static_cast<uint64_t>(DeviceRole::output));
    out.put_u64(kTagNeedParent, 0);
    out.put_bytes(kTagNeedName, ByteSpan());
    out.put_u64(kTagNeedSize, total);
    out.end(kTagNeedDevice);
    return;
  }
  out.put_u64(kConvertVirtualSize, total);
  if (request.convert.create_only) return;
  // The host printed qemu's first line (0%) before anything was opened.
  ProgressMeter meter(request.convert.progress, softfloat::kF32One);
  Failure failure;
  auto written = copy(chain, *output, request.convert, scratch, meter, failure);
  // qemu-img's last line (100%) comes only with success.
  if (written.is_ok()) meter.print(softfloat::kF32Hundred, 0);
  if (!meter.write(out)) {
    write_error(out, make_error(Errc::invalid, "progress meter overflow"));
    return;
  }
  if (written.is_error()) {
    out.put_u64(failure.status ? kConvertStatusFailedOffset : kConvertFailedOffset, failure.offset);
    write_error(out, written.error());
    return;
  }
  out.put_u64(kConvertBytesWritten, written.value());
}

}  // namespace instar
