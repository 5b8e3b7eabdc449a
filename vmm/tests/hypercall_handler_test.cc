#include "vmm/hypercall_handler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "vmm/abi/instar_abi.h"

namespace instar::vmm {
namespace {

class HypercallHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(memory_.allocate(16ull << 20).is_ok());
    char path[] = "/tmp/instar-hc-XXXXXX";
    fd_ = mkstemp(path);
    ASSERT_GE(fd_, 0);
    unlink(path);
    ASSERT_EQ(write(fd_, "0123456789abcdef", 16), 16);
  }
  void TearDown() override { close(fd_); }

  template <typename T>
  void put(uint64_t gpa, const T& v) {
    std::memcpy(memory_.host_base() + gpa, &v, sizeof v);
  }
  template <typename T>
  T get(uint64_t gpa) {
    T v;
    std::memcpy(&v, memory_.host_base() + gpa, sizeof v);
    return v;
  }
  HypercallHandler handler(bool writable = false) {
    return HypercallHandler(memory_, {DeviceSlot{fd_, 16, writable}}, 1 << 20);
  }

  GuestMemory memory_;
  int fd_ = -1;
};

TEST_F(HypercallHandlerTest, ReadsIntoGuestMemory) {
  auto h = handler();
  put(0x2000, instar_hc_block_read{0, 0, 4, 6, 0x3000, -99, 0});
  EXPECT_EQ(h.handle(INSTAR_HC_BLOCK_READ, 0x2000).kind, HypercallOutcome::Kind::resume);
  EXPECT_EQ(get<instar_hc_block_read>(0x2000).status, INSTAR_HC_OK);
  EXPECT_EQ(std::memcmp(memory_.host_base() + 0x3000, "456789", 6), 0);
}

TEST_F(HypercallHandlerTest, ArgumentOutsideMemoryOrInNullPageFails) {
  auto h = handler();
  EXPECT_EQ(h.handle(INSTAR_HC_BLOCK_READ, 16ull << 20).kind, HypercallOutcome::Kind::fail);
  EXPECT_EQ(h.handle(INSTAR_HC_DEVICE_SIZE, (16ull << 20) - 4).kind, HypercallOutcome::Kind::fail);
  EXPECT_EQ(h.handle(INSTAR_HC_DEVICE_SIZE, 0x10).kind, HypercallOutcome::Kind::fail);
}

TEST_F(HypercallHandlerTest, BufferLengthThatOverflowsFails) {
  auto h = handler();
  put(0x2000, instar_hc_block_read{0, 0, 0, 8, ~uint64_t{0} - 4, 0, 0});
  EXPECT_EQ(h.handle(INSTAR_HC_BLOCK_READ, 0x2000).kind, HypercallOutcome::Kind::fail);
  put(0x2000, instar_hc_block_read{0, 0, 0, 16, (16ull << 20) - 8, 0, 0});
  EXPECT_EQ(h.handle(INSTAR_HC_BLOCK_READ, 0x2000).kind, HypercallOutcome::Kind::fail);
}

TEST_F(HypercallHandlerTest, ReadPastDeviceEndIsAnIoError) {
  auto h = handler();
  put(0x2000, instar_hc_block_read{0, 0, 10, 10, 0x3000, 0, 0});
  EXPECT_EQ(h.handle(INSTAR_HC_BLOCK_READ, 0x2000).kind, HypercallOutcome::Kind::resume);
  EXPECT_EQ(get<instar_hc_block_read>(0x2000).status, INSTAR_HC_EIO);
  put(0x2000, instar_hc_block_read{0, 0, ~uint64_t{0}, 2, 0x3000, 0, 0});
  h.handle(INSTAR_HC_BLOCK_READ, 0x2000);
  EXPECT_EQ(get<instar_hc_block_read>(0x2000).status, INSTAR_HC_EIO);
}

TEST_F(HypercallHandlerTest, WriteToReadOnlyDeviceIsRefusedAndFileUnchanged) {
  auto h = handler(false);
  std::memcpy(memory_.host_base() + 0x3000, "XXXX", 4);
  put(0x2000, instar_hc_block_write{0, 0, 0, 4, 0x3000, 0, 0});
  EXPECT_EQ(h.handle(INSTAR_HC_BLOCK_WRITE, 0x2000).kind, HypercallOutcome::Kind::resume);
  EXPECT_EQ(get<instar_hc_block_write>(0x2000).status, INSTAR_HC_EPERM);
  char head[4];
  ASSERT_EQ(pread(fd_, head, 4, 0), 4);
  EXPECT_EQ(std::memcmp(head, "0123", 4), 0);
}

TEST_F(HypercallHandlerTest, UnknownDeviceIsInvalid) {
  auto h = handler();
  put(0x2000, instar_hc_device_size{7, 0, 0, 0, 0});
  h.handle(INSTAR_HC_DEVICE_SIZE, 0x2000);
  EXPECT_EQ(get<instar_hc_device_size>(0x2000).status, INSTAR_HC_EINVAL);
}

TEST_F(HypercallHandlerTest, OversizedOrRepeatedResultFails) {
  auto h = handler();
  put(0x2000, instar_hc_result{0x3000, (1 << 20) + 1, 0, 0});
  EXPECT_EQ(h.handle(INSTAR_HC_RESULT, 0x2000).kind, HypercallOutcome::Kind::fail);
  put(0x2000, instar_hc_result{0x3000, 8, 0, 0});
  EXPECT_EQ(h.handle(INSTAR_HC_RESULT, 0x2000).kind, HypercallOutcome::Kind::resume);
  EXPECT_TRUE(h.has_result());
  EXPECT_EQ(h.handle(INSTAR_HC_RESULT, 0x2000).kind, HypercallOutcome::Kind::fail);
}

TEST_F(HypercallHandlerTest, ExceptionNamesVectorAndRip) {
  auto h = handler();
  put(0x2000, instar_hc_exception{6, 0x100abc, 0});
  auto outcome = h.handle(INSTAR_HC_EXCEPTION, 0x2000);
  EXPECT_EQ(outcome.kind, HypercallOutcome::Kind::fail);
  EXPECT_EQ(outcome.error, "guest exception #UD at RIP 0x100abc");
}

TEST_F(HypercallHandlerTest, UnknownCallFails) {
  auto h = handler();
  EXPECT_EQ(h.handle(99, 0x2000).kind, HypercallOutcome::Kind::fail);
}

TEST_F(HypercallHandlerTest, LongLogLineFails) {
  auto h = handler();
  put(0x2000, instar_hc_log{0x3000, INSTAR_LOG_MAX + 1});
  EXPECT_EQ(h.handle(INSTAR_HC_LOG, 0x2000).kind, HypercallOutcome::Kind::fail);
}

}  // namespace
}  // namespace instar::vmm
