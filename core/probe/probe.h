// probe.h: guesses an image's format with qemu-img's rules (bdrv_probe_all and each driver's probe).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/io/block_device.h"

namespace instar {

// The format drivers that have a probe in qemu-img (docs/probing.md).
enum class ImageFormat : uint8_t {
  raw,
  qcow2,
  qcow,
  vmdk,
  vpc,
  vhdx,
  vdi,
  qed,
  luks,
  parallels,
  bochs,
  cloop,
  dmg
};
inline constexpr size_t kImageFormatCount = 13;
static_assert(static_cast<size_t>(ImageFormat::dmg) + 1 == kImageFormatCount);

// qemu's driver name: "raw", "qcow2", "qcow", "vmdk", "vpc", "vhdx", "vdi", "qed", "luks",
// "parallels", "bochs", "cloop", "dmg".
const char* image_format_name(ImageFormat format);
// Looks up a driver name given with -f; false (and `out` untouched) if it is not one of the above.
bool image_format_from_name(const char* name, ImageFormat& out);

// qemu's BLOCK_PROBE_BUF_SIZE: every driver's probe sees exactly the first 512 bytes.
inline constexpr size_t kProbeBufferSize = 512;

// The order in which qemu-img asks the drivers. Only ties depend on it, and the build
// order of the drivers changed after qemu 7.2 (docs/probing.md).
enum class ProbeOrder : uint8_t { qemu_7_2, qemu_10_0 };

// The score one driver's probe gives `head` (0 = not this format; raw always 1).
// `head` is read as the first kProbeBufferSize bytes of the file: a shorter span counts as
// zero-padded (qemu zero-fills past the end of the file), bytes beyond are ignored.
// `filename` is the name as the user gave it, or nullptr when there is none.
int image_format_probe_score(ImageFormat format, ByteSpan head, const char* filename);

// The format with the highest score, ties going to the driver qemu-img asks first; raw
// (score 1) when no other driver claims the image. A zero-length file is raw without probing.
ImageFormat probe_image_format(ByteSpan head, uint64_t file_size, const char* filename, ProbeOrder order);
// As above with qemu-img 7.2's order.
ImageFormat probe_image_format(ByteSpan head, uint64_t file_size, const char* filename);

// Reads the head from a device (zero-padded past its end) and probes it.
Result<ImageFormat> probe_device(BlockDevice& device, const char* filename, ProbeOrder order);
Result<ImageFormat> probe_device(BlockDevice& device, const char* filename);

}  // namespace instar
