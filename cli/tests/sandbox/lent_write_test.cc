// lent_write_test.cc: the file device's lent writes (the process sandbox's write_behind): they land in
// order, every other access to the file sees them, and a failure among them is flush()'s error.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "cli/io/file_block_device.h"
#include "vmm/write_behind.h"

namespace instar::cli {
namespace {

class LentWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char path[] = "/tmp/instar-lent-XXXXXX";
    fd_ = mkstemp(path);
    ASSERT_GE(fd_, 0);
    path_ = path;
    ASSERT_EQ(ftruncate(fd_, kSize), 0);
  }
  void TearDown() override { unlink(path_.c_str()); }
  static constexpr uint64_t kSize = 4 << 20;
  int fd_ = -1;
  std::string path_;
};

TEST_F(LentWriteTest, LentWritesLandInOrderAndReadsSeeThem) {
  vmm::WriteBehind writer({fd_}, /*confine=*/false);
  FileBlockDevice device(fd_, kSize, true);
  device.lend_writes_to(&writer);
  std::vector<uint8_t> a(2 << 20, 0xaa), b(2 << 20, 0xbb), back(16);
  ASSERT_TRUE(device.write_behind(0, a.data(), a.size()).is_ok());
  ASSERT_TRUE(device.write_behind(1 << 20, b.data(), b.size()).is_ok());  // overlaps: the later one wins
  ASSERT_TRUE(device.read((1 << 20) - 8, back.data(), back.size()).is_ok());
  EXPECT_EQ(back[7], 0xaa);
  EXPECT_EQ(back[8], 0xbb);
  EXPECT_TRUE(device.flush().is_ok());
}

TEST_F(LentWriteTest, AFailedLentWriteIsFlushsError) {
  int read_only = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(read_only, 0);
  vmm::WriteBehind writer({read_only}, /*confine=*/false);
  FileBlockDevice device(read_only, kSize, true);  // claims writable: pwrite fails with EBADF
  device.lend_writes_to(&writer);
  std::vector<uint8_t> a(1 << 20, 0xaa);
  ASSERT_TRUE(device.write_behind(0, a.data(), a.size()).is_ok());  // queued
  EXPECT_TRUE(device.flush().is_error());
  EXPECT_TRUE(device.flush().is_ok());  // reported once
}

TEST_F(LentWriteTest, WithoutAWriterOrPastTheEndItIsAPlainWrite) {
  FileBlockDevice device(fd_, kSize, true);
  std::vector<uint8_t> a(4096, 0x11), back(4096);
  ASSERT_TRUE(device.write_behind(kSize - 4096, a.data(), a.size()).is_ok());
  ASSERT_EQ(pread(fd_, back.data(), back.size(), kSize - 4096), 4096);
  EXPECT_EQ(back, a);
}

}  // namespace
}  // namespace instar::cli
