// compare.cc: qemu-img compare over two chains: the block status of the whole
// chain of each image (qemu's bdrv_block_status_above with no base), walked in
// the chunks qemu-img uses so that the first difference reported is the same.
#include "core/ops/compare.h"

#include "core/base/bytes.h"
#include "core/image/chain.h"
#include "core/ops/compare_record.h"
#include "core/ops/corruption_events.h"
#include "core/ops/info.h"
#include "core/ops/progress.h"

namespace instar {

namespace {

constexpr uint64_t kSector = 512;
constexpr uint64_t kBufferBytes = 2u << 20;  // qemu-img's IO_BUF_SIZE

// The status word strict mode compares, in qemu's BDRV_BLOCK_* bit values.
constexpr uint32_t kWordData = 0x01;
constexpr uint32_t kWordZero = 0x02;
constexpr uint32_t kWordOffsetValid = 0x04;
constexpr uint32_t kWordAllocated = 0x10;
constexpr uint32_t kWordEof = 0x20;
constexpr uint32_t kWordCompressed = 0x80;

struct Above {
  uint32_t word = 0;
  uint64_t length = 0;
};

uint32_t word_of(uint32_t flags) {
  uint32_t w = 0;
  if (flags & image::kData) w |= kWordData;
  if (flags & image::kZero) w |= kWordZero;
  if (flags & image::kOffsetValid) w |= kWordOffsetValid;
  if (flags & image::kAllocated) w |= kWordAllocated;
  if (flags & image::kCompressed) w |= kWordCompressed;
  if (flags & image::kEof) w |= kWordEof;
  return w;
}

// The status of [offset, offset + bytes) over the whole chain below `top`:
// the first layer that allocates the range decides; a backing file too short
// to reach the range makes it read as allocated zeroes; a range no layer
// allocates keeps the bottom layer's answer (its end-of-file flag included).
// The result reaches the top's end-of-file flag when it runs to the top's end.
Result<Above> status_above(image::Layer& top, uint64_t offset, uint64_t bytes) {
  INSTAR_TRY_ASSIGN(first, image::block_status(top, offset, bytes));
  if (first.length == 0) return make_error(Errc::io, "Input/output error");
  Above a;
  a.word = word_of(first.flags);
  a.length = first.length;
  if (first.flags & image::kAllocated) return a;
  bytes = first.length;
  for (image::Layer* layer = top.backing; layer != nullptr; layer = layer->backing) {
    if (offset >= layer->size) {
      a.word = kWordZero | kWordAllocated;
      a.length = bytes;
      break;
    }
    INSTAR_TRY_ASSIGN(s, image::block_status(*layer, offset, bytes));
    if (s.length == 0) return make_error(Errc::io, "Input/output error");
    a.word = word_of(s.flags);
    a.length = s.length;
    if (s.flags & image::kAllocated) {
      a.word &= ~kWordEof;
      break;
    }
    bytes = s.length;
  }
  if (offset + a.length == top.size) a.word |= kWordEof;
  return a;
}

bool zero_bytes(const uint8_t* p, size_t n) { return all_zero(ByteSpan(p, n)); }

bool same_bytes(const uint8_t* a, const uint8_t* b, size_t n) { return bytes_equal(a, b, n); }

// The first sector of `buf` that is not all zeroes, as a byte index; -1 if none.
int64_t first_nonzero_sector(const uint8_t* buf, uint64_t n) {
  for (uint64_t i = 0; i < n; i += kSector) {
    uint64_t len = n - i < kSector ? n - i : kSector;
    if (!zero_bytes(buf + i, static_cast<size_t>(len))) return static_cast<int64_t>(i);
  }
  return -1;
}

// The first sector where `a` and `b` differ, as a byte index; -1 if none.
int64_t first_different_sector(const uint8_t* a, const uint8_t* b, uint64_t n) {
  for (uint64_t i = 0; i < n; i += kSector) {
    uint64_t len = n - i < kSector ? n - i : kSector;
    if (!same_bytes(a + i, b + i, static_cast<size_t>(len))) return static_cast<int64_t>(i);
  }
  return -1;
}

void record_need(RecordWriter& out, const image::NeededDevice& need) {
  out.begin(kTagNeedDevice);
  out.put_u64(kTagNeedRole, static_cast<uint64_t>(need.role));
  out.put_u64(kTagNeedParent, need.parent);
  out.put_bytes(kTagNeedName, need.name);
  if (need.format.size > 0) out.put_bytes(kTagNeedFormat, need.format);
  out.end(kTagNeedDevice);
}

// Opens one chain; false when the record now holds the device to attach or the error.
bool open_side(const Request& request, const Devices& devices, Arena& scratch, image::Chain& chain,
               const image::ChainTop& top, RecordWriter& out) {
  auto opened = image::open_chain_at(request, devices, scratch, chain, top);
  if (opened.is_error()) {
    write_error(out, opened.error());
    if (chain.length > 1) out.put_u64(kTagErrorBackingDepth, chain.length - 1);
    return false;
  }
  if (!opened.value().complete) {
    record_need(out, opened.value().needed);
    return false;
  }
  return true;
}

struct Verdict {
  CompareResult result = CompareResult::identical;
  uint64_t offset = 0;
  uint64_t image = 0;
  bool size_warning = false;
  uint64_t lines_before_warning = 0;  // progress lines printed before the warning
  bool has_error = false;
  Error error = make_error(Errc::io, "");
};

Verdict fail(CompareResult result, uint64_t image, uint64_t offset, const Error& error) {
  Verdict v;
  v.result = result;
  v.image = image;
  v.offset = offset;
  v.has_error = true;
  v.error = error;
  return v;
}

Verdict mismatch(CompareResult result, uint64_t offset) {
  Verdict v;
  v.result = result;
  v.offset = offset;
  return v;
}

Verdict walk(image::Layer& top1, image::Layer& top2, bool strict, uint8_t* buf1, uint8_t* buf2,
             ProgressMeter& meter) {
  uint64_t size1 = top1.size, size2 = top2.size;
  // qemu-img's progress counts both parts against the longer image.
  uint64_t base = size1 > size2 ? size1 : size2;
  meter.print(softfloat::kF32Zero, 100);
  if (strict && size1 != size2) return mismatch(CompareResult::size_mismatch, 0);
  uint64_t common = size1 < size2 ? size1 : size2;
  uint64_t offset = 0;
  while (offset < common) {
    auto a1 = status_above(top1, offset, size1 - offset);
    if (a1.is_error()) return fail(CompareResult::status_failed, 1, offset, a1.error());
    auto a2 = status_above(top2, offset, size2 - offset);
    if (a2.is_error()) return fail(CompareResult::status_failed, 2, offset, a2.error());
    uint32_t w1 = a1.value().word, w2 = a2.value().word;
    uint64_t chunk = a1.value().length < a2.value().length ? a1.value().length : a2.value().length;
    if (strict && w1 != w2) return mismatch(CompareResult::status_mismatch, offset);
    bool allocated1 = (w1 & kWordAllocated) != 0, allocated2 = (w2 & kWordAllocated) != 0;
    if ((w1 & kWordZero) && (w2 & kWordZero)) {
      // Both read as zeroes.
    } else if (allocated1 == allocated2) {
      if (allocated1) {
        if (chunk > kBufferBytes) chunk = kBufferBytes;
        auto r1 = image::read_chain(top1, offset, buf1, static_cast<size_t>(chunk));
        if (r1.is_error()) return fail(CompareResult::read_failed, 1, offset, r1.error());
        auto r2 = image::read_chain(top2, offset, buf2, static_cast<size_t>(chunk));
        if (r2.is_error()) return fail(CompareResult::read_failed, 2, offset, r2.error());
        int64_t at = first_different_sector(buf1, buf2, chunk);
        if (at >= 0) return mismatch(CompareResult::content_mismatch, offset + static_cast<uint64_t>(at));
      }
    } else {
      if (chunk > kBufferBytes) chunk = kBufferBytes;
      image::Layer& top = allocated1 ? top1 : top2;
      auto r = image::read_chain(top, offset, buf1, static_cast<size_t>(chunk));
      if (r.is_error()) return fail(CompareResult::read_failed, allocated1 ? 1 : 2, offset, r.error());
      int64_t at = first_nonzero_sector(buf1, chunk);
      if (at >= 0) return mismatch(CompareResult::content_mismatch, offset + static_cast<uint64_t>(at));
    }
    offset += chunk;
    meter.print(compare_progress_delta(chunk, base), 100);
  }
  Verdict v;
  if (size1 == size2) return v;
  // The longer image's extra part must read as zeroes.
  bool first_longer = size1 > size2;
  image::Layer& over = first_longer ? top1 : top2;
  uint64_t image = first_longer ? 1 : 2;
  uint64_t end = over.size;
  uint64_t before_warning = meter.lines();
  while (offset < end) {
    auto a = status_above(over, offset, end - offset);
    if (a.is_error()) {
      Verdict f = fail(CompareResult::status_failed, image, offset, a.error());
      f.size_warning = true;
      f.lines_before_warning = before_warning;
      return f;
    }
    uint64_t chunk = a.value().length;
    if ((a.value().word & kWordAllocated) && !(a.value().word & kWordZero)) {
      if (chunk > kBufferBytes) chunk = kBufferBytes;
      auto r = image::read_chain(over, offset, buf1, static_cast<size_t>(chunk));
      if (r.is_error()) {
        Verdict f = fail(CompareResult::read_failed, image, offset, r.error());
        f.size_warning = true;
        f.lines_before_warning = before_warning;
        return f;
      }
      int64_t at = first_nonzero_sector(buf1, chunk);
      if (at >= 0) {
        Verdict m = mismatch(CompareResult::content_mismatch, offset + static_cast<uint64_t>(at));
        m.size_warning = true;
        m.lines_before_warning = before_warning;
        return m;
      }
    }
    offset += chunk;
    meter.print(compare_progress_delta(chunk, base), 100);
  }
  v.size_warning = true;
  v.lines_before_warning = before_warning;
  return v;
}

// The device number of the attached second image, 0 if it is not attached yet.
uint8_t second_image_number(const Request& request, const Devices& devices) {
  for (size_t i = 0; i < kMaxAttached; i++)
    if (request.attached[i].role == DeviceRole::second_image && devices.attached[i] != nullptr)
      return static_cast<uint8_t>(i + 1);
  return 0;
}

}  // namespace

void run_compare(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out) {
  image::Chain chain1;
  image::Chain chain2;
  CorruptionEventsOnExit events(out, chain1, &chain2);
  image::ChainTop top1;
  top1.number = 0;
  top1.format_given = request.format_given;
  top1.format = request.format;
  top1.name_tail = request.name_tail;
  if (!open_side(request, devices, scratch, chain1, top1, out)) return;
  out.put_u64(kCompareOpened1, 1);
  uint8_t second = second_image_number(request, devices);
  if (second == 0) {
    // qemu-img opens the second image only after the first one's chain.
    image::NeededDevice need;
    need.role = DeviceRole::second_image;
    need.parent = 0;
    record_need(out, need);
    return;
  }
  image::ChainTop top2;
  top2.number = second;
  top2.format_given = request.format2_given;
  top2.format = request.format2;
  top2.name_tail = request.name_tail2;
  if (!open_side(request, devices, scratch, chain2, top2, out)) return;
  out.put_u64(kCompareOpened2, 1);
  out.put_u64(kCompareSize1, chain1.top->size);
  out.put_u64(kCompareSize2, chain2.top->size);
  auto buf1 = scratch.allocate(static_cast<size_t>(kBufferBytes));
  if (buf1.is_error()) {
    write_error(out, buf1.error());
    return;
  }
  auto buf2 = scratch.allocate(static_cast<size_t>(kBufferBytes));
  if (buf2.is_error()) {
    write_error(out, buf2.error());
    return;
  }
  ProgressMeter meter(request.compare.progress, softfloat::kF32Two);
  Verdict v = walk(*chain1.top, *chain2.top, request.compare.strict, buf1.value(), buf2.value(), meter);
  if (!meter.write(out)) {
    write_error(out, make_error(Errc::invalid, "progress meter overflow"));
    return;
  }
  if (v.size_warning) {
    out.put_u64(kCompareSizeWarning, 1);
    if (request.compare.progress) out.put_u64(kCompareLinesBeforeWarning, v.lines_before_warning);
  }
  out.put_u64(kCompareResult, static_cast<uint64_t>(v.result));
  out.put_u64(kCompareOffset, v.offset);
  if (v.image != 0) out.put_u64(kCompareImage, v.image);
  if (v.has_error) write_error(out, v.error);
}

}  // namespace instar
