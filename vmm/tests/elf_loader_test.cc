#include "vmm/elf_loader.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "core/base/span_reader.h"

namespace instar::vmm {
namespace {

std::vector<uint8_t> guest_elf() {
  std::ifstream in(INSTAR_HOSTILE_GUEST_ELF, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

class ElfLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(memory_.allocate(16ull << 20).is_ok()); }
  GuestMemory memory_;
};

TEST_F(ElfLoaderTest, LoadsTheGuest) {
  auto elf = guest_elf();
  ASSERT_FALSE(elf.empty());
  auto entry = load_elf(ByteSpan(elf.data(), elf.size()), memory_, 0x100000);
  ASSERT_TRUE(entry.is_ok()) << entry.error().message;
  EXPECT_EQ(entry.value(), 0x100000u);
}

TEST_F(ElfLoaderTest, RejectsEveryTruncation) {
  auto elf = guest_elf();
  for (size_t n : {size_t{0}, size_t{10}, size_t{63}, size_t{64}, size_t{100}, size_t{200}})
    EXPECT_TRUE(load_elf(ByteSpan(elf.data(), n), memory_, 0x100000).is_error()) << n;
}

TEST_F(ElfLoaderTest, RejectsSegmentOutsideMemoryOrBelowFloor) {
  auto elf = guest_elf();
  uint64_t phoff = load_u64_le(ByteSpan(elf.data(), elf.size()), 32);
  auto bad = elf;
  // First program header's physical address far beyond the 16 MiB of memory.
  for (int i = 0; i < 8; i++) bad[phoff + 24 + i] = i == 4 ? 0x10 : 0;
  EXPECT_TRUE(load_elf(ByteSpan(bad.data(), bad.size()), memory_, 0x100000).is_error());
  EXPECT_TRUE(load_elf(ByteSpan(elf.data(), elf.size()), memory_, 0x200000).is_error());
}

TEST_F(ElfLoaderTest, RejectsFileSizeLargerThanMemorySize) {
  auto elf = guest_elf();
  uint64_t phoff = load_u64_le(ByteSpan(elf.data(), elf.size()), 32);
  for (int i = 0; i < 8; i++) elf[phoff + 40 + i] = 0;  // memsz = 0
  EXPECT_TRUE(load_elf(ByteSpan(elf.data(), elf.size()), memory_, 0x100000).is_error());
}

TEST_F(ElfLoaderTest, RejectsWrongMachine) {
  auto elf = guest_elf();
  elf[18] = 3;  // EM_386
  EXPECT_TRUE(load_elf(ByteSpan(elf.data(), elf.size()), memory_, 0x100000).is_error());
}

}  // namespace
}  // namespace instar::vmm
