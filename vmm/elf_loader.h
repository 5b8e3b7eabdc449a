// elf_loader.h: loads the guest's static ELF64 image into guest memory,
// validating every header and segment first.
#pragma once

#include <cstdint>

#include "core/base/bytes.h"
#include "vmm/guest_memory.h"

namespace instar::vmm {

// Returns the entry point. Segments must be PT_LOAD within [load_floor, memory end),
// file ranges within the image, filesz <= memsz, and the entry inside an executable segment.
Result<uint64_t> load_elf(ByteSpan image, GuestMemory& memory, uint64_t load_floor);

}  // namespace instar::vmm
