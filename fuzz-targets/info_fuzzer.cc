// info_fuzzer.cc: the whole core entry point, execute(info), on any image; its record must decode and make
// sense.
//
// Input: one selector byte, then the image (docs/fuzzing.md):
//   bits 0-1: 0 or 1 probe the format, 2 force qcow2 (-f qcow2), 3 force raw (-f raw)
//   bit 2: qemu 10.0 rules (else 7.2)   bit 3: the image is named "disk.dmg" (else "disk.img")
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/io/memory_block_device.h"
#include "core/ops/execute.h"
#include "fuzz-targets/fuzz_support.h"
#include "fuzz-targets/info_checks.h"

using instar::ByteSpan;
using instar::ImageFormat;

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

  instar::fuzz::info_checks::run_and_check(request, image, expected, (selector & 3) == 3);
  return 0;
}
