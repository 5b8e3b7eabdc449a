// probe.cc: one small probe per qemu driver, scored and ordered as qemu-img does.
#include "core/probe/probe.h"

#include "core/base/span_reader.h"

namespace instar {
namespace {

// The probe buffer every driver sees: the head copied and zero-padded to qemu's size.
struct ProbeBuffer {
  uint8_t bytes[kProbeBufferSize];

  explicit ProbeBuffer(ByteSpan head) {
    size_t n = head.size < kProbeBufferSize ? head.size : kProbeBufferSize;
    // The builtins become memcpy/memset, which every home of core/ provides (the guest's runtime too).
    if (n > 0) __builtin_memcpy(bytes, head.data, n);
    __builtin_memset(bytes + n, 0, kProbeBufferSize - n);
  }
  ByteSpan span() const { return ByteSpan(bytes, kProbeBufferSize); }
};

// True if `literal` (length bytes, no terminator implied) lies whole at `offset`.
bool bytes_at(ByteSpan buf, size_t offset, const char* literal, size_t length) {
  if (offset > buf.size || length > buf.size - offset) return false;
  return bytes_equal(buf.data + offset, literal, length);
}

// sizeof a string literal without its terminator.
template <size_t N>
constexpr size_t literal_length(const char (&)[N]) {
  return N - 1;
}

constexpr uint32_t kQcowMagic = 0x514649fb;  // "QFI\xfb", big-endian

// block/qcow2.c qcow2_probe: magic and version >= 2 (3 is current; larger ones fail at open).
int probe_qcow2(ByteSpan buf, const char*) {
  if (buf.size < 104) return 0;  // sizeof(QCowHeader)
  return load_u32_be(buf, 0) == kQcowMagic && load_u32_be(buf, 4) >= 2 ? 100 : 0;
}

// block/qcow.c qcow_probe: same magic, version exactly 1.
int probe_qcow(ByteSpan buf, const char*) {
  if (buf.size < 48) return 0;  // sizeof(QCowHeader) of qcow v1
  return load_u32_be(buf, 0) == kQcowMagic && load_u32_be(buf, 4) == 1 ? 100 : 0;
}

// True if a "version=N" line, N in 1..3, ending in LF or CRLF lies whole in `buf` at `pos`.
bool vmdk_version_line_at(ByteSpan buf, size_t pos) {
  size_t left = buf.size - pos;
  if (left < literal_length("version=X\n") || !bytes_at(buf, pos, "version=", 8)) return false;
  uint8_t digit = buf[pos + 8];
  if (digit < '1' || digit > '3') return false;
  if (buf[pos + 9] == '\n') return true;
  return left >= literal_length("version=X\r\n") && buf[pos + 9] == '\r' && buf[pos + 10] == '\n';
}

// block/vmdk.c vmdk_probe: a sparse extent's magic ("KDMV" VMDK4, "COWD" VMDK3), or a text
// descriptor whose first line that is neither a '#' comment nor spaces is "version=1|2|3".
int probe_vmdk(ByteSpan buf, const char*) {
  if (buf.size < 4) return 0;
  if (bytes_at(buf, 0, "KDMV", 4) || bytes_at(buf, 0, "COWD", 4)) return 100;
  size_t pos = 0;
  while (pos < buf.size) {
    if (buf[pos] == '#') {
      while (pos < buf.size && buf[pos] != '\n') pos++;
      pos++;  // past the newline (or past the end, which ends the loop)
      continue;
    }
    if (buf[pos] == ' ') {
      // A blank line may hold spaces and a CR, nothing else.
      while (pos < buf.size && buf[pos] == ' ') pos++;
      if (pos < buf.size && buf[pos] == '\r') pos++;
      if (pos == buf.size || buf[pos] != '\n') return 0;
      pos++;
      continue;
    }
    return vmdk_version_line_at(buf, pos) ? 100 : 0;
  }
  return 0;
}

// block/vpc.c vpc_probe: the footer copy at offset 0 of a dynamic VHD. A fixed VHD has its
// only footer at the end of the file, so qemu probes it as raw.
int probe_vpc(ByteSpan buf, const char*) { return bytes_at(buf, 0, "conectix", 8) ? 100 : 0; }

// block/vhdx.c vhdx_probe: the file identifier signature.
int probe_vhdx(ByteSpan buf, const char*) { return bytes_at(buf, 0, "vhdxfile", 8) ? 100 : 0; }

// block/vdi.c vdi_probe: the signature after the 64-byte text; the text itself is not checked.
int probe_vdi(ByteSpan buf, const char*) {
  if (buf.size < 512) return 0;  // sizeof(VdiHeader)
  return load_u32_le(buf, 64) == 0xbeda107f ? 100 : 0;
}

// block/qed.c bdrv_qed_probe: "QED\0" read as a little-endian magic.
int probe_qed(ByteSpan buf, const char*) {
  if (buf.size < 64) return 0;  // sizeof(QEDHeader)
  return bytes_at(buf, 0, "QED\0", 4) ? 100 : 0;
}

// block/crypto.c block_crypto_probe_luks -> crypto/block-luks.c: magic and LUKS version 1
// (a LUKS2 header is raw to qemu).
int probe_luks(ByteSpan buf, const char*) {
  if (buf.size < 8) return 0;  // offsetof(QCryptoBlockLUKSHeader, cipher_name)
  return bytes_at(buf, 0, "LUKS\xba\xbe", 6) && load_u16_be(buf, 6) == 1 ? 100 : 0;
}

// block/parallels.c parallels_probe: either signature, format version 2.
int probe_parallels(ByteSpan buf, const char*) {
  if (buf.size < 64) return 0;  // sizeof(ParallelsHeader)
  bool magic = bytes_at(buf, 0, "WithoutFreeSpace", 16) || bytes_at(buf, 0, "WithouFreSpacExt", 16);
  return magic && load_u32_le(buf, 16) == 2 ? 100 : 0;
}

// block/bochs.c bochs_probe: strcmp on the magic, type and subtype fields (so each must be
// NUL-terminated right after the word) and header version 1.0 or 2.0.
int probe_bochs(ByteSpan buf, const char*) {
  if (buf.size < 512) return 0;  // HEADER_SIZE
  static constexpr char kMagic[] = "Bochs Virtual HD Image";
  static constexpr char kRedolog[] = "Redolog";
  static constexpr char kGrowing[] = "Growing";
  // sizeof includes the terminator, which must be in the image too.
  if (!bytes_at(buf, 0, kMagic, sizeof kMagic) || !bytes_at(buf, 32, kRedolog, sizeof kRedolog) ||
      !bytes_at(buf, 48, kGrowing, sizeof kGrowing))
    return 0;
  uint32_t version = load_u32_le(buf, 64);
  return version == 0x00020000 || version == 0x00010000 ? 100 : 0;
}

// block/cloop.c cloop_probe: the whole V2.0 shell-script preamble; a low score.
int probe_cloop(ByteSpan buf, const char*) {
  static constexpr char kMagic[] =
      "#!/bin/sh\n"
      "#V2.0 Format\n"
      "modprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n";
  return bytes_at(buf, 0, kMagic, literal_length(kMagic)) ? 2 : 0;
}

// block/dmg.c dmg_probe: looks only at the name, which must be longer than ".dmg" and end
// with it (case-sensitive); a low score.
int probe_dmg(ByteSpan, const char* filename) {
  if (filename == nullptr) return 0;
  size_t length = c_string_length(filename);
  return length > 4 && bytes_equal(reinterpret_cast<const uint8_t*>(filename) + length - 4, ".dmg", 4) ? 2
                                                                                                       : 0;
}

// block/raw-format.c raw_probe: the smallest positive score, so raw wins only when nothing else does.
int probe_raw(ByteSpan, const char*) { return 1; }

using ProbeFunction = int (*)(ByteSpan, const char*);

struct FormatEntry {
  const char* name;
  ProbeFunction probe;
};

// Indexed by ImageFormat.
constexpr FormatEntry kFormats[kImageFormatCount] = {
    {"raw", probe_raw},   {"qcow2", probe_qcow2},         {"qcow", probe_qcow},   {"vmdk", probe_vmdk},
    {"vpc", probe_vpc},   {"vhdx", probe_vhdx},           {"vdi", probe_vdi},     {"qed", probe_qed},
    {"luks", probe_luks}, {"parallels", probe_parallels}, {"bochs", probe_bochs}, {"cloop", probe_cloop},
    {"dmg", probe_dmg},
};

// qemu registers drivers in link order and bdrv_register() puts each at the head of the
// list, so bdrv_probe_all() asks them newest first. These are those orders; the only
// pairs that can tie are vdi with a magic-at-offset-0 format and cloop with dmg.
constexpr ImageFormat kOrder72[kImageFormatCount] = {
    ImageFormat::parallels, ImageFormat::qed,   ImageFormat::dmg,  ImageFormat::bochs, ImageFormat::cloop,
    ImageFormat::vdi,       ImageFormat::qcow,  ImageFormat::vpc,  ImageFormat::vmdk,  ImageFormat::vhdx,
    ImageFormat::raw,       ImageFormat::qcow2, ImageFormat::luks,
};
// A 2023 change (after 7.2) moved vhdx, vmdk and vpc behind vdi in block/meson.build.
constexpr ImageFormat kOrder100[kImageFormatCount] = {
    ImageFormat::parallels, ImageFormat::qed,   ImageFormat::dmg,  ImageFormat::bochs, ImageFormat::cloop,
    ImageFormat::vpc,       ImageFormat::vmdk,  ImageFormat::vhdx, ImageFormat::vdi,   ImageFormat::qcow,
    ImageFormat::raw,       ImageFormat::qcow2, ImageFormat::luks,
};

bool c_string_equal(const char* a, const char* b) {
  size_t i = 0;
  for (; a[i] != '\0' && b[i] != '\0'; i++)
    if (a[i] != b[i]) return false;
  return a[i] == b[i];
}

}  // namespace

const char* image_format_name(ImageFormat format) {
  size_t index = static_cast<size_t>(format);
  return index < kImageFormatCount ? kFormats[index].name : "unknown";
}

bool image_format_from_name(const char* name, ImageFormat& out) {
  if (name == nullptr) return false;
  for (size_t i = 0; i < kImageFormatCount; i++) {
    if (c_string_equal(name, kFormats[i].name)) {
      out = static_cast<ImageFormat>(i);
      return true;
    }
  }
  return false;
}

int image_format_probe_score(ImageFormat format, ByteSpan head, const char* filename) {
  size_t index = static_cast<size_t>(format);
  if (index >= kImageFormatCount) return 0;
  ProbeBuffer buffer(head);
  return kFormats[index].probe(buffer.span(), filename);
}

ImageFormat probe_image_format(ByteSpan head, uint64_t file_size, const char* filename, ProbeOrder order) {
  // find_image_format() answers raw for an empty file before reading anything.
  if (file_size == 0) return ImageFormat::raw;
  ProbeBuffer buffer(head);
  const ImageFormat* drivers = order == ProbeOrder::qemu_10_0 ? kOrder100 : kOrder72;
  ImageFormat best = ImageFormat::raw;
  int best_score = 0;
  for (size_t i = 0; i < kImageFormatCount; i++) {
    int score = kFormats[static_cast<size_t>(drivers[i])].probe(buffer.span(), filename);
    if (score > best_score) {  // strictly greater: the first driver asked keeps a tie
      best_score = score;
      best = drivers[i];
    }
  }
  return best;
}

ImageFormat probe_image_format(ByteSpan head, uint64_t file_size, const char* filename) {
  return probe_image_format(head, file_size, filename, ProbeOrder::qemu_7_2);
}

Result<ImageFormat> probe_device(BlockDevice& device, const char* filename, ProbeOrder order) {
  uint64_t size = device.size();
  if (size == 0) return ImageFormat::raw;
  uint8_t head[kProbeBufferSize];
  INSTAR_TRY(read_zero_padded(device, 0, head, sizeof head));
  return probe_image_format(ByteSpan(head, sizeof head), size, filename, order);
}

Result<ImageFormat> probe_device(BlockDevice& device, const char* filename) {
  return probe_device(device, filename, ProbeOrder::qemu_7_2);
}

}  // namespace instar
