// qcow2_open.h: opening a qcow2 image in the order of qemu's qcow2 driver, so
// that every operation reports the first problem qemu reports.
#pragma once

#include "core/base/arena.h"
#include "core/io/block_device.h"
#include "core/ops/info_qcow2_metadata.h"
#include "core/qcow2/header.h"

namespace instar::qcow2 {

struct OpenedImage {
  Header header;
  Extensions ext;
  ByteSpan backing_name;    // as stored, up to the first NUL; empty without a backing file
  ByteSpan backing_format;  // from the extension, up to the first NUL
  ByteSpan data_file_name;  // from the extension, up to the first NUL
  bool has_data_file = false;
  bool data_file_raw = false;
  EncryptionView encryption;
  SnapshotView snapshots;
  BitmapView bitmaps;
};

// Header, feature bits, table checks, extensions, encryption header, data
// file rules, backing file name, snapshot table and bitmap directory.
Result<OpenedImage> open_image(BlockDevice& image, const QemuRules& rules, Arena& scratch);

}  // namespace instar::qcow2
