// The progress meter against qemu's util/qemu-progress.c rule run in the host's own float arithmetic.
#include "core/ops/progress.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/base/soft_float.h"

namespace instar {
namespace {

uint32_t bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// qemu's meter, in hardware floats: the values of the lines it prints.
struct HostMeter {
  float current = 0, last_print = 0, min_skip;
  std::vector<uint32_t> printed;
  explicit HostMeter(float skip) : min_skip(skip) {}
  void print(float delta, int max) {
    float c = max == 0 ? delta : current + delta / 100 * max;
    if (c > 100) c = 100;
    current = c;
    if (c > last_print + min_skip || c == 100 || c == 0) {
      last_print = current;
      printed.push_back(bits(c));
    }
  }
};

// The meter's record, expanded back into one value per line.
std::vector<uint32_t> lines_of(const ProgressMeter& meter) {
  std::vector<uint8_t> buf(16384);
  RecordWriter w(buf.data(), buf.size());
  w.start(5);
  EXPECT_TRUE(meter.write(w));
  std::vector<uint32_t> out;
  // Walk the fields: group begin, then (value, repeat) pairs.
  size_t at = kRecordHeaderSize;
  uint64_t value = 0;
  while (at + kRecordFieldHeaderSize <= w.size()) {
    uint16_t tag = static_cast<uint16_t>(buf[at] | buf[at + 1] << 8);
    uint32_t length = buf[at + 3] | buf[at + 4] << 8 | buf[at + 5] << 16 | static_cast<uint32_t>(buf[at + 6]) << 24;
    uint64_t u = 0;
    if (length == 8)
      for (int i = 7; i >= 0; i--) u = u << 8 | buf[at + kRecordFieldHeaderSize + i];
    if (tag == kTagProgressValue) value = u;
    if (tag == kTagProgressRepeat)
      for (uint64_t i = 0; i < u; i++) out.push_back(static_cast<uint32_t>(value));
    at += kRecordFieldHeaderSize + length;
  }
  return out;
}

TEST(ProgressMeter, CompareStepsPrintWhatQemuPrints) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; round++) {
    uint64_t base = (rng() >> (rng() % 40)) + 1;
    ProgressMeter meter(true, softfloat::kF32Two);
    HostMeter host(2.0f);
    meter.print(softfloat::kF32Zero, 100);
    host.print(0, 100);
    for (uint64_t offset = 0; offset < base;) {
      uint64_t chunk = rng() % 3 == 0 ? (rng() % (base - offset)) + 1 : ((base / 97) | 1);
      if (chunk > base - offset) chunk = base - offset;
      meter.print(compare_progress_delta(chunk, base), 100);
      host.print((static_cast<float>(chunk) / static_cast<float>(base)) * 100, 100);
      offset += chunk;
    }
    ASSERT_EQ(lines_of(meter), host.printed) << "base " << base;
    ASSERT_EQ(meter.lines(), host.printed.size());
  }
}

TEST(ProgressMeter, ConvertStepsPrintWhatQemuPrints) {
  std::mt19937_64 rng(8);
  for (int round = 0; round < 300; round++) {
    uint64_t total = (rng() >> (rng() % 50)) + 1;
    ProgressMeter meter(true, softfloat::kF32One);
    HostMeter host(1.0f);
    uint64_t done = 0;
    while (done < total) {
      uint64_t n = rng() % 2 == 0 ? (rng() % (total - done)) + 1 : ((total / 201) | 1);
      if (n > total - done) n = total - done;
      done += n;
      meter.print(convert_progress_value(done, total), 0);
      host.print(static_cast<float>(100.0 * static_cast<double>(done) / static_cast<double>(total)), 0);
    }
    meter.print(softfloat::kF32Hundred, 0);
    host.print(100, 0);
    ASSERT_EQ(lines_of(meter), host.printed) << "total " << total;
  }
}

TEST(ProgressMeter, ManyTinyStepsStayWithinTheRunLimit) {
  // 2^20 chunks of one image: at most one run per 2% plus the 0 and 100 runs.
  ProgressMeter meter(true, softfloat::kF32Two);
  meter.print(softfloat::kF32Zero, 100);
  const uint64_t chunks = 1u << 20, base = chunks * 512;
  for (uint64_t i = 0; i < chunks; i++) meter.print(compare_progress_delta(512, base), 100);
  std::vector<uint8_t> buf(16384);
  RecordWriter w(buf.data(), buf.size());
  w.start(5);
  EXPECT_TRUE(meter.write(w));
  EXPECT_FALSE(w.failed());
  EXPECT_LE(w.size(), 4096u);
}

TEST(ProgressMeter, DisabledMeterWritesNothing) {
  ProgressMeter meter(false, softfloat::kF32One);
  meter.print(softfloat::kF32Zero, 100);
  meter.print(softfloat::kF32Hundred, 0);
  EXPECT_EQ(meter.lines(), 0u);
  std::vector<uint8_t> buf(64);
  RecordWriter w(buf.data(), buf.size());
  w.start(5);
  EXPECT_TRUE(meter.write(w));
  EXPECT_EQ(w.size(), kRecordHeaderSize);
}

}  // namespace
}  // namespace instar
