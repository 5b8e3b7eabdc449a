#include "vmm/write_behind.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "vmm/abi/instar_abi.h"

namespace instar::vmm {
namespace {

// The write-behind slot against real guest memory and two files: device 0 read-only, device 1
// writable. Without a thread (`thread` false) the waiter serves the slot; with one, the I/O thread.
class WriteBehindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(memory_.allocate(16ull << 20).is_ok());
    for (int& fd : fds_) {
      char path[] = "/tmp/instar-wb-XXXXXX";
      fd = mkstemp(path);
      ASSERT_GE(fd, 0);
      unlink(path);
      ASSERT_EQ(write(fd, "0123456789abcdef", 16), 16);
    }
    devices_ = {DeviceSlot{fds_[0], 16, false}, DeviceSlot{fds_[1], 16, true}};
    std::memcpy(memory_.host_base() + 0x3000, "WXYZ", 4);
  }
  void TearDown() override {
    for (int fd : fds_) close(fd);
  }
  instar_write_slot& slot() { return *reinterpret_cast<instar_write_slot*>(memory_.host_base() + INSTAR_GPA_WRITE_SLOT); }
  void post(uint32_t number, uint32_t device, uint64_t offset, uint64_t length, uint64_t buffer) {
    slot().request = instar_hc_block_read{device, 0, offset, length, buffer, -99, 0};
    slot().posted = number;
  }
  std::string file(int i) {
    char bytes[16];
    EXPECT_EQ(pread(fds_[i], bytes, 16, 0), 16);
    return std::string(bytes, 16);
  }

  GuestMemory memory_;
  int fds_[2] = {-1, -1};
  std::vector<DeviceSlot> devices_;
};

TEST_F(WriteBehindTest, ServesAPostedWriteOnceAndAnswersInTheSlot) {
  WriteBehind writes(memory_, devices_, false, false);
  ASSERT_TRUE(writes.started());
  EXPECT_FALSE(writes.serve_posted()) << "nothing is posted yet";
  post(1, 1, 2, 4, 0x3000);
  EXPECT_TRUE(writes.serve_posted());
  EXPECT_EQ(file(1), "01WXYZ6789abcdef");
  EXPECT_EQ(slot().request.status, INSTAR_HC_OK);
  EXPECT_EQ(slot().claimed, 1u);
  EXPECT_EQ(slot().served, 1u);
  // Served once: a second look finds nothing new, even after the guest rewrites the request.
  slot().request.offset = 8;
  EXPECT_FALSE(writes.serve_posted());
  EXPECT_EQ(file(1), "01WXYZ6789abcdef");
  EXPECT_FALSE(writes.failed());
}

TEST_F(WriteBehindTest, ChecksTheRequestAsTheWriteHypercallDoes) {
  WriteBehind writes(memory_, devices_, false, false);
  post(1, 0, 0, 4, 0x3000);  // read-only device
  EXPECT_TRUE(writes.serve_posted());
  EXPECT_EQ(slot().request.status, INSTAR_HC_EPERM);
  post(2, 7, 0, 4, 0x3000);  // no such device
  EXPECT_TRUE(writes.serve_posted());
  EXPECT_EQ(slot().request.status, INSTAR_HC_EINVAL);
  post(3, 1, 14, 4, 0x3000);  // past the end of the output
  EXPECT_TRUE(writes.serve_posted());
  EXPECT_EQ(slot().request.status, INSTAR_HC_EIO);
  EXPECT_EQ(file(0), "0123456789abcdef");
  EXPECT_EQ(file(1), "0123456789abcdef");
  EXPECT_FALSE(writes.failed());
}

TEST_F(WriteBehindTest, ABufferOutsideGuestMemoryFailsTheRun) {
  WriteBehind writes(memory_, devices_, false, false);
  post(1, 1, 0, 16, (16ull << 20) - 8);
  EXPECT_TRUE(writes.serve_posted());
  EXPECT_TRUE(writes.failed());
  EXPECT_EQ(writes.failure(), "guest passed an I/O buffer outside its memory");
  EXPECT_EQ(file(1), "0123456789abcdef");
}

TEST_F(WriteBehindTest, TheIoThreadServesWhatAnExitHandsIt) {
  WriteBehind writes(memory_, devices_, true, true);
  ASSERT_TRUE(writes.started());
  post(1, 1, 0, 4, 0x3000);
  writes.kick();
  while (__atomic_load_n(&slot().served, __ATOMIC_ACQUIRE) != 1) std::this_thread::yield();
  EXPECT_EQ(file(1), "WXYZ456789abcdef");
  // wait_idle serves (or waits for) the next one.
  post(2, 1, 12, 4, 0x3000);
  writes.kick();
  writes.wait_idle();
  EXPECT_EQ(slot().served, 2u);
  EXPECT_EQ(file(1), "WXYZ456789abWXYZ");
  writes.stop();
}

TEST_F(WriteBehindTest, TheHandlerOrdersEveryCallButAReadOfAReadOnlyDeviceAfterThePostedWrite) {
  WriteBehind writes(memory_, devices_, false, false);
  HypercallHandler handler(memory_, devices_, 1 << 20);
  handler.set_write_behind(&writes);
  // A read of the output sees the posted write.
  post(1, 1, 0, 4, 0x3000);
  instar_hc_block_read read{1, 0, 0, 4, 0x4000, -99, 0};
  std::memcpy(memory_.host_base() + 0x2000, &read, sizeof read);
  EXPECT_EQ(handler.handle(INSTAR_HC_BLOCK_READ, 0x2000).kind, HypercallOutcome::Kind::resume);
  EXPECT_EQ(std::memcmp(memory_.host_base() + 0x4000, "WXYZ", 4), 0);
  // A read of the read-only input does not wait: the write is still posted afterwards.
  post(2, 1, 4, 4, 0x3000);
  read = instar_hc_block_read{0, 0, 0, 4, 0x4000, -99, 0};
  std::memcpy(memory_.host_base() + 0x2000, &read, sizeof read);
  EXPECT_EQ(handler.handle(INSTAR_HC_BLOCK_READ, 0x2000).kind, HypercallOutcome::Kind::resume);
  EXPECT_EQ(slot().served, 1u);
  // WRITE_WAIT returns with it served.
  EXPECT_EQ(handler.handle(INSTAR_HC_WRITE_WAIT, INSTAR_GPA_WRITE_SLOT).kind, HypercallOutcome::Kind::resume);
  EXPECT_EQ(slot().served, 2u);
  EXPECT_EQ(file(1), "WXYZWXYZ89abcdef");
}

TEST_F(WriteBehindTest, WriteWaitWithoutASlotFailsTheRun) {
  HypercallHandler handler(memory_, devices_, 1 << 20);
  HypercallOutcome outcome = handler.handle(INSTAR_HC_WRITE_WAIT, INSTAR_GPA_WRITE_SLOT);
  EXPECT_EQ(outcome.kind, HypercallOutcome::Kind::fail);
  EXPECT_EQ(outcome.error, "guest waited on a write-behind slot it was not given");
}

}  // namespace
}  // namespace instar::vmm
