// execute.h: the single entry point of core/: block devices plus a request in,
// a result record out. The CLI calls it in-process today; the guest's
// dispatcher calls the same function.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/arena.h"
#include "core/io/block_device.h"
#include "core/ops/info_record.h"
#include "core/probe/probe.h"
#include "core/record/record.h"

namespace instar {

// Devices beyond the image are attached by the host when core asks for them
// (a backing file, an external data file) or when the operation has an output.
inline constexpr size_t kMaxAttached = 24;

// second_image: compare's second top-level image, requested by core once the first chain opened.
enum class DeviceRole : uint8_t { none = 0, backing = 1, data_file = 2, output = 3, second_image = 4 };

struct AttachedDevice {
  DeviceRole role = DeviceRole::none;
  uint8_t parent = 0;  // the layer it belongs to: 0 is the image, n is attached[n - 1]
};

// `map`: the window of the virtual disk to describe.
struct MapParams {
  uint64_t start = 0;
  uint64_t max_length = 0;
  bool has_max_length = false;
};

// `convert`: how to write the output (attached with DeviceRole::output).
struct ConvertParams {
  uint64_t min_sparse = 4096;  // -S in bytes; 0 writes every byte
  bool skip_create = false;    // -n: the output exists and is not known to read as zeroes
  bool target_is_zero = false; // --target-is-zero
  bool create_only = false;    // create the output, copy nothing (qemu fails later, e.g. --bitmaps)
  bool progress = false;       // -p (without -q): record the progress lines
  uint8_t coroutines = 8;      // -m (1-16): chunks in flight when a read fails (progress only)
  bool in_order = true;        // not -W: writes in order
};

// `compare`: the second image is attached with DeviceRole::second_image.
struct CompareParams {
  bool strict = false;    // -s
  bool progress = false;  // -p (without -q): record the progress lines
};

// `check`: -r, what qemu's check may repair (BDRV_FIX_LEAKS = 1, BDRV_FIX_ERRORS = 2). With
// repair the host attaches the image writable; without it the image is read-only.
inline constexpr uint8_t kRepairLeaks = 1;
inline constexpr uint8_t kRepairErrors = 2;
struct CheckParams {
  uint8_t repair = 0;
  // -r all, a rebuild that grows the file: the file's length; the image device is made exactly as
  // large as the rebuild's planned size (kCheckRepairGrowTo). 0: the device's size is the file's.
  uint64_t file_size = 0;
  // -r on an image with persistent bitmaps: the last run, after the check again, stores them as
  // qemu does when it closes the image (kCheckBitmapStore); file_size as for a rebuild.
  bool store_bitmaps = false;
};

// `dd`: the operands (bs=, count=, skip=); the output is attached with DeviceRole::output.
struct DdParams {
  uint64_t block_size = 512;  // 1..INT_MAX
  uint64_t count = 0;         // blocks, 0..INT64_MAX
  bool has_count = false;
  uint64_t skip = 0;          // blocks, 0..INT64_MAX
};

// `measure -l`: the internal snapshot whose L1 table replaces the active one
// (qemu's bdrv_snapshot_load_tmp). A key is bytes, not a C string.
inline constexpr size_t kSnapshotKeyMax = 1024;
enum class SnapshotLookup : uint8_t {
  none = 0,
  id_or_name = 1,   // -l TEXT: the snapshot whose id is TEXT, else the one named TEXT
  id_and_name = 2,  // -l snapshot.id=..,snapshot.name=..: the first matching every key given
};
struct SnapshotKey {
  bool present = false;
  uint16_t length = 0;
  char bytes[kSnapshotKeyMax] = {};
};
struct MeasureParams {
  // Walk the source's block status to count its data (qcow2_measure does; raw's measure and the
  // refusals of other formats ask for none, so a corrupt table is neither reported nor an error).
  bool count_data = true;
  SnapshotLookup lookup = SnapshotLookup::none;
  SnapshotKey id;  // id_or_name: the text
  SnapshotKey name;
};

struct Request {
  Operation operation = Operation::info;
  bool format_given = false;  // -f
  ImageFormat format = ImageFormat::raw;
  // The qemu-img version whose behaviour to follow where versions differ
  // (probe tie order, LUKS header checks).
  uint16_t qemu_major = 10;
  uint16_t qemu_minor = 0;
  // The last characters of the image's name as the user gave it: the dmg probe looks at its suffix.
  char name_tail[32] = {};
  AttachedDevice attached[kMaxAttached] = {};
  MapParams map;
  ConvertParams convert;
  DdParams dd;
  CompareParams compare;
  MeasureParams measure;
  CheckParams check;
  // compare's second image (-F, its name's tail for the dmg probe).
  bool format2_given = false;
  ImageFormat format2 = ImageFormat::raw;
  char name_tail2[32] = {};
};

struct Devices {
  BlockDevice* image = nullptr;
  BlockDevice* attached[kMaxAttached] = {};  // attached[i] plays request.attached[i].role
};

// Runs the request and writes its result record (success or error) into `out`.
// The returned error is only for a record that did not fit.
Result<void> execute(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out);

}  // namespace instar
