// header_rewrite.h: qemu's rewrite of a qcow2 header (qcow2_update_header):
// to change a feature bit (clear the dirty bit on close, set or clear the
// corrupt bit) qemu serialises the whole first cluster again from what it
// parsed. This predicts those bytes, so a repair can tell whether qemu's
// rewrite changes anything but the incompatible_features field.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/qcow2/header.h"

namespace instar::qcow2 {

// The offset and width of the incompatible_features field in the header.
inline constexpr size_t kIncompatibleFeaturesOffset = 72;

// Writes into `out` (h.cluster_size() bytes) the first cluster as qemu
// serialises the v3 header `h` parsed from `first` (the file's first cluster,
// whole), with `incompatible` as its incompatible_features. Errors: a v2
// header (it has no feature bits), an extension instar does not serialise
// (crypto header, bitmaps), or what does not fit in the cluster (qemu fails
// with ENOSPC there).
Result<void> serialise_header_as_qemu(const Header& h, ByteSpan first, uint64_t incompatible, uint8_t* out,
                                      Arena& scratch);

// The same with a bitmaps extension: `bitmaps` is what qemu holds (written
// after its feature table, measured with 7.2 and 10.0), nullptr when it
// dropped the extension. An unknown extension beside it is refused (where
// qemu puts the two relative to each other is unmeasured).
Result<void> serialise_header_with_bitmaps(const Header& h, ByteSpan first, uint64_t incompatible,
                                           const BitmapsExtension* bitmaps, uint8_t* out, Arena& scratch);

// Where the bitmaps extension's data lies in `first` (its header's end), 0 when there is none.
size_t bitmaps_extension_data_offset(const Header& h, ByteSpan first);

// True when qemu's rewrite of the header of `first` would leave every byte of
// the cluster as it is except the incompatible_features field; false when it
// would change more (a header qemu serialises differently: an older
// header_length, bytes after the extensions, a foreign feature table, unknown
// autoclear bits, ...) or cannot be predicted.
bool header_rewrite_only_features(const Header& h, ByteSpan first, Arena& scratch);

}  // namespace instar::qcow2
