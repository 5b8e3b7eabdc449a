// malloc.h: the guest's heap for the C libraries it links (zlib, libzstd): malloc/calloc/free over one
// region the dispatcher hands out, with a hard limit.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace instar::guest {

// Gives the heap [base, base + bytes). Before this, malloc returns null.
void heap_init(uint8_t* base, size_t bytes);

}  // namespace instar::guest

// The C allocator the libraries call (malloc.cc); guest code may use it too.
extern "C" void* malloc(size_t bytes);
extern "C" void free(void* pointer);
