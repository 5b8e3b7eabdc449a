// chain.cc: building the chain of layers over attached devices.
#include "core/image/chain.h"

#include "core/base/text.h"
#include "core/image/foreign_open.h"

namespace instar::image {

namespace {

// Whether qemu knows the format named by the header's backing format extension (as for -f).
bool known_format_name(ByteSpan name, ImageFormat& out) {
  char text[32];
  if (name.size >= sizeof text) return false;
  for (size_t i = 0; i < name.size; i++) {
    if (name[i] == 0) return false;
    text[i] = static_cast<char>(name[i]);
  }
  text[name.size] = '\0';
  return image_format_from_name(text, out);
}

// The attached device playing `role` for layer device `parent`, as a device number; 0 if none.
uint8_t find_attached(const Request& request, const Devices& devices, DeviceRole role, uint8_t parent) {
  for (size_t i = 0; i < kMaxAttached; i++) {
    if (request.attached[i].role == role && request.attached[i].parent == parent && devices.attached[i] != nullptr)
      return static_cast<uint8_t>(i + 1);
  }
  return 0;
}

}  // namespace

BlockDevice* device_number(const Devices& devices, uint8_t number) {
  if (number == 0) return devices.image;
  if (number > kMaxAttached) return nullptr;
  return devices.attached[number - 1];
}

Result<ChainOpen> open_chain(const Request& request, const Devices& devices, Arena& scratch, Chain& chain) {
  ChainTop top;
  top.number = 0;
  top.format_given = request.format_given;
  top.format = request.format;
  top.name_tail = request.name_tail;
  return open_chain_at(request, devices, scratch, chain, top);
}

Result<ChainOpen> open_chain_at(const Request& request, const Devices& devices, Arena& scratch, Chain& chain,
                                const ChainTop& top) {
  if (device_number(devices, top.number) == nullptr) return make_error(Errc::invalid, "no image device attached");
  qcow2::QemuRules rules{request.qemu_major >= 10};
  ProbeOrder order = request.qemu_major >= 8 ? ProbeOrder::qemu_10_0 : ProbeOrder::qemu_7_2;
  uint8_t number = top.number;
  bool format_known = top.format_given;
  ImageFormat format = top.format;
  const char* name_tail = top.name_tail;
  ChainOpen result;
  for (size_t depth = 0;; depth++) {
    if (depth >= kMaxChainLength) return make_error(Errc::too_large, "Backing chain is too long");
    BlockDevice* device = device_number(devices, number);
    if (device == nullptr) return make_error(Errc::invalid, "device not attached");
    if (!format_known) {
      INSTAR_TRY_ASSIGN(probed, probe_device(*device, depth == 0 ? name_tail : "", order));
      format = probed;
    }
    chain.device_of[depth] = number;
    chain.format_of[depth] = format;
    chain.length = depth + 1;
    Layer* layer = nullptr;
    ByteSpan backing_name, backing_format;
    if (format == ImageFormat::raw) {
      chain.raw[depth].init(*device, number);
      layer = &chain.raw[depth];
    } else if (format == ImageFormat::qcow2) {
      INSTAR_TRY_ASSIGN(opened, qcow2::open_image(*device, rules, scratch));
      if (opened.header.crypt_method != qcow2::kCryptNone)
        return make_error(Errc::unsupported, "encrypted images are not supported by instar yet");
      BlockDevice* data = device;
      uint8_t data_number = number;
      if (opened.has_data_file) {
        data_number = find_attached(request, devices, DeviceRole::data_file, number);
        if (data_number == 0) {
          result.needed = NeededDevice{DeviceRole::data_file, number, opened.data_file_name, ByteSpan()};
          return result;
        }
        data = device_number(devices, data_number);
      }
      INSTAR_TRY(chain.qcow2[depth].init(*device, opened, *data, data_number, scratch));
      chain.qcow2[depth].set_event_clock(chain.event_clock);
      chain.qcow2[depth].set_reads_only(chain.reads_only);
      layer = &chain.qcow2[depth];
      backing_name = opened.backing_name;
      backing_format = opened.backing_format;
    } else {
      // qemu's driver for the format opens the file first: its error when the file is not of that format.
      return foreign_open_error(format, *device, scratch);
    }
    chain.layers[depth] = layer;
    if (depth > 0) chain.layers[depth - 1]->backing = layer;
    if (backing_name.size == 0) break;
    // qemu looks the backing file's driver up before it opens the file: a name it does not know fails
    // as the backing file's error, whether or not the file exists.
    ImageFormat next_format = ImageFormat::raw;
    if (backing_format.size > 0 && !known_format_name(backing_format, next_format)) {
      chain.length = depth + 2;
      static char text[96];
      TextBuilder message(text, sizeof text);
      message.append("Unknown driver '");
      message.append(reinterpret_cast<const char*>(backing_format.data), backing_format.size < 40 ? backing_format.size : 40);
      message.append("'");
      return make_error(Errc::invalid, text);
    }
    uint8_t backing = find_attached(request, devices, DeviceRole::backing, number);
    if (backing == 0) {
      result.needed = NeededDevice{DeviceRole::backing, number, backing_name, backing_format};
      return result;
    }
    number = backing;
    // A named format instar does not parse fails at the next layer as qemu's driver for it fails.
    format_known = backing_format.size > 0;
    if (format_known) format = next_format;
  }
  chain.top = chain.layers[0];
  result.complete = true;
  return result;
}

}  // namespace instar::image
