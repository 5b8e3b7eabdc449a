// chain.h: an image and its backing files as a chain of layers, built from the
// devices the host attached. Core never opens files: when a layer needs a
// device that is not attached yet (a backing file, an external data file), the
// open stops and names it, and the host attaches it and runs the request again.
#pragma once

#include "core/base/arena.h"
#include "core/image/qcow2_layer.h"
#include "core/image/raw_layer.h"
#include "core/ops/execute.h"

namespace instar::image {

inline constexpr size_t kMaxChainLength = 17;  // the image and at most 16 backing files

struct NeededDevice {
  DeviceRole role = DeviceRole::none;
  uint8_t parent = 0;       // the device number of the layer that needs it
  ByteSpan name;            // as stored in that layer
  ByteSpan format;          // the backing format the layer names, if any
};

struct Chain {
  Layer* top = nullptr;
  size_t length = 0;
  Layer* layers[kMaxChainLength] = {};
  uint8_t device_of[kMaxChainLength] = {};  // the device number holding each layer
  ImageFormat format_of[kMaxChainLength] = {};
  Qcow2Layer qcow2[kMaxChainLength];
  EventClock* event_clock = nullptr;  // given to each qcow2 layer as it opens
  bool reads_only = false;            // likewise (Qcow2Layer::set_reads_only)
  RawLayer raw[kMaxChainLength];
};

struct ChainOpen {
  bool complete = false;  // false: `needed` names the device to attach
  NeededDevice needed;
};

// Opens the image (format from the request or probed) and every backing file
// below it. `chain` must outlive its use; its layers point into `scratch`.
Result<ChainOpen> open_chain(const Request& request, const Devices& devices, Arena& scratch, Chain& chain);

// The top of a chain: its device number, its format if given (else probed)
// and the tail of its name for the probe. open_chain uses device 0 and the
// request's format; compare opens its second image with its own.
struct ChainTop {
  uint8_t number = 0;
  bool format_given = false;
  ImageFormat format = ImageFormat::raw;
  const char* name_tail = "";
};
Result<ChainOpen> open_chain_at(const Request& request, const Devices& devices, Arena& scratch, Chain& chain,
                                const ChainTop& top);

// The device numbered `number` (0: the image, n: attached[n - 1]), or null.
BlockDevice* device_number(const Devices& devices, uint8_t number);

}  // namespace instar::image
