// info_record.h: the tags of the info result record (shared by core and the renderer).
#pragma once

#include <stdint.h>

namespace instar {

// Every operation core/ runs; each owns a range of record tags (its NNN tags
// below or in <op>_record.h): info 100-499, map 500-599, check 600-699,
// measure 700-799, compare 800-899, convert 900-999, dd 1000-1099.
enum class Operation : uint16_t { info = 1, map = 2, check = 3, measure = 4, compare = 5, convert = 6, dd = 7 };

// Tags used by every operation's record.
enum CommonTag : uint16_t {
  kTagErrorMessage = 1,  // static text with "{}" placeholders, or complete text
  kTagErrorDetail = 2,
  kTagErrorDetail2 = 3,
  kTagErrorCode = 4,
  kTagWarning = 5,  // a line qemu prints to stderr while succeeding
  kTagErrorBackingDepth = 6,  // the error is in the n-th backing file: qemu prefixes it n times
  // A line qemu's qcow2 driver printed on stderr when it found corrupt metadata (core/image/corruption_event.h),
  // one field per event in the order they happened; the host prints them before the operation's output.
  kTagCorruptionEvent = 7,
  // The open stopped: the host must attach this device and run the request again.
  kTagNeedDevice = 10,  // group
  kTagNeedRole = 11,    // DeviceRole
  kTagNeedParent = 12,  // device number of the layer that names it
  kTagNeedName = 13,    // the name as stored in the image
  kTagNeedFormat = 14,  // the backing format the image names, if any
  kTagNeedSize = 15,    // for an output: the size it must have
  // The chain core opened: one group per layer, top first.
  kTagLayer = 20,        // group
  kTagLayerDevice = 21,  // device number
  kTagLayerFormat = 22,  // driver name
};

enum InfoTag : uint16_t {
  kInfoFormat = 100,  // driver name
  kInfoVirtualSize = 101,
  kInfoClusterSize = 102,  // absent for formats without clusters
  kInfoEncrypted = 103,
  kInfoDirty = 104,
  kInfoBackingName = 105,  // as stored in the image
  kInfoBackingFormat = 106,
  kInfoDataFileName = 107,      // the external data file extension
  kInfoDataFileRequired = 108,  // the data-file incompatible bit: the host must open it
  kInfoDataFileRaw = 109,
  kInfoQcow2Version = 110,
  kInfoCompressionType = 111,  // 0 zlib, 1 zstd
  kInfoLazyRefcounts = 112,
  kInfoCorrupt = 113,
  kInfoExtendedL2 = 114,
  kInfoRefcountBits = 115,

  kInfoSnapshot = 200,  // group
  kInfoSnapshotId = 201,
  kInfoSnapshotName = 202,
  kInfoSnapshotVmStateSize = 203,
  kInfoSnapshotDateSec = 204,
  kInfoSnapshotDateNsec = 205,
  kInfoSnapshotVmClockNsec = 206,
  kInfoSnapshotIcount = 207,  // absent when the image has none

  kInfoBitmap = 300,  // group
  kInfoBitmapName = 301,
  kInfoBitmapGranularity = 302,
  kInfoBitmapFlags = 303,  // bit 0 in-use, bit 1 auto

  kInfoEncryption = 400,        // group
  kInfoEncryptionFormat = 401,  // "aes" or "luks"
  kInfoLuksCipherAlg = 402,
  kInfoLuksCipherMode = 403,
  kInfoLuksIvgenAlg = 404,
  kInfoLuksIvgenHashAlg = 405,
  kInfoLuksHashAlg = 406,
  kInfoLuksPayloadOffset = 407,
  kInfoLuksMasterKeyIters = 408,
  kInfoLuksUuid = 409,
  kInfoLuksSlot = 410,  // group
  kInfoLuksSlotActive = 411,
  kInfoLuksSlotIters = 412,
  kInfoLuksSlotStripes = 413,
  kInfoLuksSlotKeyOffset = 414,
};

}  // namespace instar
