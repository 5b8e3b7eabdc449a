// foreign_open.h: how qemu's driver for a format instar does not parse fails to
// open a file that is not of that format (`check -f vmdk img.qcow2`).
#pragma once

#include "core/base/arena.h"
#include "core/base/result.h"
#include "core/io/block_device.h"
#include "core/probe/probe.h"

namespace instar {

// The error qemu's `format` driver opens `image` with, when its first checks
// already refuse the file: vmdk (no sparse magic and no createType before the
// first NUL of the descriptor qemu reads), vpc (no "conectix" footer at the start
// or at the end), qed, qcow and parallels (magic, qcow's version). Otherwise, or
// for another format, instar's own refusal: "instar does not support the 'X'
// image format yet" (docs/divergences.md#unsupported-format).
Error foreign_open_error(ImageFormat format, BlockDevice& image, Arena& scratch);

}  // namespace instar
