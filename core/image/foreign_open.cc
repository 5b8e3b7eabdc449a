// foreign_open.cc: the first checks of qemu's vmdk, vpc, qed, qcow and
// parallels open, on a file that fails them. Each driver reads its header
// through the block layer: past the end of the file the bytes read as zero, and
// the file's length is rounded up to a whole sector.
#include "core/image/foreign_open.h"

#include "core/base/bytes.h"
#include "core/base/span_reader.h"
#include "core/base/text.h"

namespace instar {

namespace {

constexpr uint64_t kSector = 512;
constexpr size_t kVmdkDescriptorMax = (1u << 20) - 1;  // vmdk_read_desc's cap

Error unsupported(ImageFormat format) {
  static char text[96];
  TextBuilder message(text, sizeof text);
  message.append("instar does not support the '");
  message.append(image_format_name(format));
  message.append("' image format yet");
  return make_error(Errc::unsupported, text);
}

// The block layer's length: the file's, rounded up to a sector.
uint64_t sector_length(const BlockDevice& image) {
  uint64_t size = image.size();
  return size % kSector == 0 ? size : size + (kSector - size % kSector);
}

// vmdk_open: a sparse image starts with its magic; anything else is read as a
// text descriptor (up to 1 MiB, a C string) that must name its createType.
Error vmdk_error(BlockDevice& image, Arena& scratch) {
  uint64_t length = sector_length(image);
  if (length < 4) return make_error(Errc::invalid, "File is too small, not a valid image");
  size_t n = length < kVmdkDescriptorMax ? static_cast<size_t>(length) : kVmdkDescriptorMax;
  auto buffer = scratch.allocate(n);
  if (buffer.is_error()) return buffer.error();
  uint8_t* desc = buffer.value();
  auto read = read_zero_padded(image, 0, desc, n);
  if (read.is_error()) return read.error();
  if (bytes_equal(desc, "COWD", 4) || bytes_equal(desc, "KDMV", 4)) return unsupported(ImageFormat::vmdk);
  static const char kKey[] = "createType";
  const size_t key = sizeof kKey - 1;
  size_t end = 0;
  while (end < n && desc[end] != 0) end++;
  for (size_t i = 0; i + key <= end; i++)
    if (bytes_equal(desc + i, kKey, key)) return unsupported(ImageFormat::vmdk);  // a descriptor: not parsed
  return make_error(Errc::invalid, "invalid VMDK image descriptor");
}

// vpc_open: the "conectix" footer copy at the start, else the footer at the end.
Error vpc_error(BlockDevice& image) {
  uint8_t footer[8];
  auto read = read_zero_padded(image, 0, footer, sizeof footer);
  if (read.is_error()) return read.error();
  if (bytes_equal(footer, "conectix", 8)) return unsupported(ImageFormat::vpc);
  uint64_t length = sector_length(image);
  if (length < kSector) return make_error(Errc::invalid, "File too small for a VHD header");
  read = read_zero_padded(image, length - kSector, footer, sizeof footer);
  if (read.is_error()) return read.error();
  if (bytes_equal(footer, "conectix", 8)) return unsupported(ImageFormat::vpc);
  return make_error(Errc::invalid, "invalid VPC image");
}

}  // namespace

Error foreign_open_error(ImageFormat format, BlockDevice& image, Arena& scratch) {
  uint8_t head[72];
  switch (format) {
    case ImageFormat::vmdk:
      return vmdk_error(image, scratch);
    case ImageFormat::vpc:
      return vpc_error(image);
    case ImageFormat::qed:
    case ImageFormat::qcow:
    case ImageFormat::parallels: {
      auto read = read_zero_padded(image, 0, head, sizeof head);
      if (read.is_error()) return read.error();
      if (format == ImageFormat::qed) {
        if (!bytes_equal(head, "QED\0", 4)) return make_error(Errc::invalid, "Image not in QED format");
      } else if (format == ImageFormat::qcow) {
        if (load_u32_be(ByteSpan(head, sizeof head), 0) != 0x514649fb) return make_error(Errc::invalid, "Image not in qcow format");
        uint32_t version = load_u32_be(ByteSpan(head, sizeof head), 4);
        if (version == 2 || version == 3)
          return make_error(Errc::unsupported,
                            "qcow (v1) does not support qcow version {}\nTry the 'qcow2' driver instead.", version);
        if (version != 1) return make_error(Errc::unsupported, "qcow (v1) does not support qcow version {}", version);
      } else {
        // The version (little-endian 2 at offset 16) is checked before the two magics.
        bool version = head[16] == 2 && head[17] == 0 && head[18] == 0 && head[19] == 0;
        bool magic = bytes_equal(head, "WithoutFreeSpace", 16) || bytes_equal(head, "WithouFreSpacExt", 16);
        if (!version || !magic) return make_error(Errc::invalid, "Image not in Parallels format");
      }
      return unsupported(format);
    }
    default:
      return unsupported(format);
  }
}

}  // namespace instar
