// malloc.cc: power-of-two size classes, one free list each, carved from the region by a bump pointer.
// A freed block goes back to its class and is reused whole; nothing is split or merged, so a block's
// header (its class) is all the bookkeeping. The libraries allocate a few context-sized blocks and free
// them again, which this serves without growth; at worst half of what is handed out is slack. An
// allocation the region cannot hold returns null, and the libraries turn that into an error.
#include "guest/malloc.h"

#include "guest/hypercall.h"

namespace instar::guest {
namespace {

constexpr unsigned kMinClass = 5;   // 32 bytes: 16 of header, 16 usable
constexpr unsigned kMaxClass = 40;  // beyond any guest memory
constexpr size_t kHeader = 16;      // keeps 16-byte alignment for the caller

struct FreeBlock {
  FreeBlock* next;
};

uint8_t* heap_next = nullptr;
uint8_t* heap_end = nullptr;
FreeBlock* free_lists[kMaxClass + 1];

unsigned class_for(size_t bytes) {
  unsigned c = kMinClass;
  while (c <= kMaxClass && (size_t{1} << c) - kHeader < bytes) c++;
  return c;
}

}  // namespace

void heap_init(uint8_t* base, size_t bytes) {
  uintptr_t start = (reinterpret_cast<uintptr_t>(base) + 15) & ~uintptr_t{15};
  uintptr_t end = reinterpret_cast<uintptr_t>(base) + bytes;
  heap_next = reinterpret_cast<uint8_t*>(start);
  heap_end = reinterpret_cast<uint8_t*>(end > start ? end : start);
  for (auto& list : free_lists) list = nullptr;
}

}  // namespace instar::guest

using instar::guest::class_for;
using instar::guest::free_lists;
using instar::guest::FreeBlock;
using instar::guest::heap_end;
using instar::guest::heap_next;
using instar::guest::kHeader;
using instar::guest::kMaxClass;

extern "C" {

void* malloc(size_t bytes) {
  unsigned c = class_for(bytes);
  if (c > kMaxClass) return nullptr;
  uint8_t* block;
  if (FreeBlock* f = free_lists[c]) {
    free_lists[c] = f->next;
    block = reinterpret_cast<uint8_t*>(f);
  } else {
    size_t size = size_t{1} << c;
    if (heap_next == nullptr || static_cast<size_t>(heap_end - heap_next) < size) return nullptr;
    block = heap_next;
    heap_next += size;
  }
  *reinterpret_cast<uint64_t*>(block) = c;
  return block + kHeader;
}

void free(void* pointer) {
  if (pointer == nullptr) return;
  uint8_t* block = static_cast<uint8_t*>(pointer) - kHeader;
  uint64_t c = *reinterpret_cast<uint64_t*>(block);
  if (c < instar::guest::kMinClass || c > kMaxClass) instar::guest::guest_exit(8);  // not a block of ours
  auto* f = reinterpret_cast<FreeBlock*>(block);
  f->next = free_lists[c];
  free_lists[c] = f;
}

void* calloc(size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) return nullptr;
  void* p = malloc(bytes);
  if (p != nullptr) __builtin_memset(p, 0, bytes);
  return p;
}

}  // extern "C"
