// elf_loader.cc: ELF64 little-endian x86-64 executables only; byte offsets, no struct casts.
#include "vmm/elf_loader.h"

#include <cstring>

#include "core/base/span_reader.h"

namespace instar::vmm {

namespace {
constexpr uint32_t kPtLoad = 1;
constexpr uint32_t kPfExecute = 1;
constexpr uint16_t kEtExec = 2;
constexpr uint16_t kEmX8664 = 62;
constexpr size_t kEhdrSize = 64;
constexpr size_t kPhdrSize = 56;
constexpr uint16_t kMaxSegments = 16;
}  // namespace

Result<uint64_t> load_elf(ByteSpan image, GuestMemory& memory, uint64_t load_floor) {
  auto bad = [](const char* why) { return make_error(Errc::invalid, why); };
  if (image.size < kEhdrSize) return bad("guest image: too short for an ELF header");
  static const uint8_t kIdent[] = {0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */};
  if (std::memcmp(image.data, kIdent, sizeof kIdent) != 0) return bad("guest image: not an ELF64 LE file");
  if (load_u16_le(image, 16) != kEtExec || load_u16_le(image, 18) != kEmX8664)
    return bad("guest image: not an x86-64 executable");
  uint64_t entry = load_u64_le(image, 24);
  uint64_t phoff = load_u64_le(image, 32);
  uint16_t phentsize = load_u16_le(image, 54);
  uint16_t phnum = load_u16_le(image, 56);
  if (phentsize != kPhdrSize || phnum == 0 || phnum > kMaxSegments)
    return bad("guest image: bad program headers");
  if (phoff > image.size || uint64_t{phnum} * kPhdrSize > image.size - phoff)
    return bad("guest image: program headers outside the file");
  bool entry_ok = false;
  // Validate every segment before copying any.
  for (int pass = 0; pass < 2; pass++) {
    for (uint16_t i = 0; i < phnum; i++) {
      ByteSpan ph = image.subspan(static_cast<size_t>(phoff + uint64_t{i} * kPhdrSize), kPhdrSize);
      if (load_u32_le(ph, 0) != kPtLoad) continue;
      uint32_t flags = load_u32_le(ph, 4);
      uint64_t offset = load_u64_le(ph, 8), paddr = load_u64_le(ph, 24);
      uint64_t filesz = load_u64_le(ph, 32), memsz = load_u64_le(ph, 40);
      if (filesz > memsz) return bad("guest image: segment file size exceeds memory size");
      if (offset > image.size || filesz > image.size - offset)
        return bad("guest image: segment outside the file");
      if (paddr < load_floor) return bad("guest image: segment below the load address");
      auto dest = memory.checked(paddr, memsz);
      if (dest.is_error()) return bad("guest image: segment outside guest memory");
      if (pass == 0) {
        if ((flags & kPfExecute) && entry >= paddr && entry - paddr < memsz) entry_ok = true;
        continue;
      }
      std::memcpy(dest.value(), image.data + offset, filesz);
      std::memset(dest.value() + filesz, 0, memsz - filesz);
    }
    if (pass == 0 && !entry_ok) return bad("guest image: entry point outside an executable segment");
  }
  return entry;
}

}  // namespace instar::vmm
