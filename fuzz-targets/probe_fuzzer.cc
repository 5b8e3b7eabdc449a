// probe_fuzzer.cc: format probing (core/probe) on any file head, with both tie orders and several names.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/io/memory_block_device.h"
#include "core/probe/probe.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

using instar::ByteSpan;
using instar::ImageFormat;
using instar::kImageFormatCount;
using instar::kProbeBufferSize;
using instar::ProbeOrder;

// The dmg probe looks only at the name; the others ignore it.
constexpr const char* kNames[] = {nullptr, "disk.img", "disk.dmg"};
constexpr ProbeOrder kOrders[] = {ProbeOrder::qemu_7_2, ProbeOrder::qemu_10_0};

// Every driver's score for one head and name, computed once per name.
struct Scores {
  int of[kImageFormatCount];
  int best = 0;

  Scores(ByteSpan head, const char* name) {
    for (size_t i = 0; i < kImageFormatCount; i++) {
      of[i] = instar::image_format_probe_score(static_cast<ImageFormat>(i), head, name);
      if (of[i] > best) best = of[i];
    }
  }
  int operator[](ImageFormat format) const { return of[static_cast<size_t>(format)]; }
};

ImageFormat probe_and_check(ByteSpan input, const char* name, ProbeOrder order, const Scores& scores) {
  ImageFormat format = instar::probe_image_format(input, input.size, name, order);
  INSTAR_FUZZ_CHECK(static_cast<size_t>(format) < kImageFormatCount);

  // The driver name round-trips.
  const char* format_name = instar::image_format_name(format);
  ImageFormat back = ImageFormat::dmg;
  INSTAR_FUZZ_CHECK(instar::image_format_from_name(format_name, back));
  INSTAR_FUZZ_CHECK(back == format);

  // Probing through a device reads the same head, zero-padded.
  instar::MemoryBlockDevice device(input.data, input.size);
  auto through_device = instar::probe_device(device, name, order);
  INSTAR_FUZZ_CHECK(through_device.is_ok());
  INSTAR_FUZZ_CHECK(through_device.value() == format);

  if (input.size == 0) {
    INSTAR_FUZZ_CHECK(format == ImageFormat::raw);
    return format;
  }
  // The winner has the highest score, and raw's 1 is the floor.
  INSTAR_FUZZ_CHECK(scores[format] >= 1);
  INSTAR_FUZZ_CHECK(scores[format] == scores.best);

  // Only the first 512 bytes count, and a short head counts as zero-padded.
  INSTAR_FUZZ_CHECK(instar::probe_image_format(input.subspan(0, kProbeBufferSize), input.size, name, order) ==
                    format);
  uint8_t padded[kProbeBufferSize] = {};
  ByteSpan head = input.subspan(0, kProbeBufferSize);
  std::memcpy(padded, head.data, head.size);
  INSTAR_FUZZ_CHECK(instar::probe_image_format(ByteSpan(padded, sizeof padded), input.size, name, order) ==
                    format);
  return format;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  ByteSpan input(data, size);

  ImageFormat found[2][3];
  for (size_t n = 0; n < 3; n++) {
    Scores scores(input, kNames[n]);
    for (size_t o = 0; o < 2; o++) found[o][n] = probe_and_check(input, kNames[n], kOrders[o], scores);
    // The orders differ only in who wins a tie.
    if (found[0][n] != found[1][n]) INSTAR_FUZZ_CHECK(scores[found[0][n]] == scores[found[1][n]]);
  }
  for (size_t o = 0; o < 2; o++) {
    // A name not ending in ".dmg" is as good as none; one that does can only turn the answer into dmg.
    INSTAR_FUZZ_CHECK(found[o][1] == found[o][0]);
    INSTAR_FUZZ_CHECK(found[o][2] == found[o][0] || found[o][2] == ImageFormat::dmg);
    INSTAR_FUZZ_CHECK(found[o][0] != ImageFormat::dmg);
  }

  // Any -f name: a hit names that very driver; a miss leaves the output alone.
  char name[16] = {};
  std::memcpy(name, data, size < sizeof name - 1 ? size : sizeof name - 1);
  ImageFormat named = ImageFormat::luks;
  if (instar::image_format_from_name(name, named))
    INSTAR_FUZZ_CHECK(std::strcmp(instar::image_format_name(named), name) == 0);
  else
    INSTAR_FUZZ_CHECK(named == ImageFormat::luks);
  return 0;
}
