// write_behind_test.cc: writes the guest lends to the host (INSTAR_WRITE_BEHIND) land in order, are
// complete before anything else looks at a writable device, and a failure among them reaches the guest
// at its next settle or ends the run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "vmm/abi/instar_abi.h"
#include "vmm/hypercall_handler.h"

namespace instar::vmm {
namespace {

class WriteBehindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(memory_.allocate(16ull << 20).is_ok());
    char path[] = "/tmp/instar-wb-XXXXXX";
    fd_ = mkstemp(path);
    ASSERT_GE(fd_, 0);
    path_ = path;
    ASSERT_EQ(ftruncate(fd_, kSize), 0);
  }
  void TearDown() override {
    close(fd_);
    unlink(path_.c_str());
  }
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
  // Lends [buffer_gpa, +length) for the device's bytes at `offset`; returns the call's status.
  int32_t lend(HypercallHandler& h, uint32_t device, uint64_t offset, uint64_t length, uint64_t buffer_gpa) {
    put(0x2000, instar_hc_block_write{device, INSTAR_WRITE_BEHIND, offset, length, buffer_gpa, -99, 0});
    EXPECT_EQ(h.handle(INSTAR_HC_BLOCK_WRITE, 0x2000).kind, HypercallOutcome::Kind::resume);
    return get<instar_hc_block_write>(0x2000).status;
  }
  int32_t settle(HypercallHandler& h) {
    put(0x2100, instar_hc_block_settle{-99, 0});
    EXPECT_EQ(h.handle(INSTAR_HC_BLOCK_SETTLE, 0x2100).kind, HypercallOutcome::Kind::resume);
    return get<instar_hc_block_settle>(0x2100).status;
  }
  std::string file_bytes(uint64_t offset, size_t length) {
    std::string s(length, '\0');
    EXPECT_EQ(pread(fd_, s.data(), length, static_cast<off_t>(offset)), static_cast<ssize_t>(length));
    return s;
  }

  static constexpr uint64_t kSize = 1 << 20;
  GuestMemory memory_;
  int fd_ = -1;
  std::string path_;
};

TEST_F(WriteBehindTest, LentWritesLandInOrderBySettle) {
  HypercallHandler h(memory_, {DeviceSlot{fd_, kSize, true}}, 1 << 16);
  std::memcpy(memory_.host_base() + 0x10000, "first", 5);
  std::memcpy(memory_.host_base() + 0x20000, "SECOND", 6);
  EXPECT_EQ(lend(h, 0, 100, 5, 0x10000), INSTAR_HC_OK);
  EXPECT_EQ(lend(h, 0, 102, 6, 0x20000), INSTAR_HC_OK);  // overlaps the first: order decides
  EXPECT_EQ(settle(h), INSTAR_HC_OK);
  EXPECT_EQ(file_bytes(100, 8), "fiSECOND");
}

TEST_F(WriteBehindTest, AReadOfTheWrittenDeviceSeesEveryLentWrite) {
  HypercallHandler h(memory_, {DeviceSlot{fd_, kSize, true}}, 1 << 16);
  for (uint64_t i = 0; i < 200; i++) {  // more than the queue holds: the vCPU waits for room
    memory_.host_base()[0x10000 + i] = static_cast<uint8_t>(i + 1);
    EXPECT_EQ(lend(h, 0, 4096 * i, 1, 0x10000 + i), INSTAR_HC_OK);
  }
  put(0x2000, instar_hc_block_read{0, 0, 4096 * 199, 1, 0x30000, -99, 0});
  EXPECT_EQ(h.handle(INSTAR_HC_BLOCK_READ, 0x2000).kind, HypercallOutcome::Kind::resume);
  EXPECT_EQ(get<instar_hc_block_read>(0x2000).status, INSTAR_HC_OK);
  EXPECT_EQ(memory_.host_base()[0x30000], 200);
}

TEST_F(WriteBehindTest, LentWritesAreCheckedLikeOthers) {
  HypercallHandler read_only(memory_, {DeviceSlot{fd_, kSize, false}}, 1 << 16);
  EXPECT_FALSE(read_only.lends_writes());  // no writable device, no thread
  std::memcpy(memory_.host_base() + 0x10000, "XXXX", 4);
  EXPECT_EQ(lend(read_only, 0, 0, 4, 0x10000), INSTAR_HC_EPERM);
  EXPECT_EQ(file_bytes(0, 4), std::string(4, '\0'));
  HypercallHandler h(memory_, {DeviceSlot{fd_, kSize, true}}, 1 << 16);
  EXPECT_EQ(lend(h, 0, kSize - 2, 4, 0x10000), INSTAR_HC_EIO);  // past the device's end
  EXPECT_EQ(lend(h, 1, 0, 4, 0x10000), INSTAR_HC_EINVAL);      // no such device
  put(0x2000, instar_hc_block_write{0, INSTAR_WRITE_BEHIND, 0, 8, (16ull << 20) - 4, 0, 0});
  EXPECT_EQ(h.handle(INSTAR_HC_BLOCK_WRITE, 0x2000).kind, HypercallOutcome::Kind::fail);  // buffer outside memory
  EXPECT_EQ(settle(h), INSTAR_HC_OK);
  EXPECT_EQ(file_bytes(0, 4), std::string(4, '\0'));
}

// A descriptor opened read-only makes pwrite fail: the failure of a lent write.
class FailingWriteBehindTest : public WriteBehindTest {
 protected:
  void SetUp() override {
    WriteBehindTest::SetUp();
    read_only_fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(read_only_fd_, 0);
  }
  void TearDown() override {
    close(read_only_fd_);
    WriteBehindTest::TearDown();
  }
  int read_only_fd_ = -1;
};

TEST_F(FailingWriteBehindTest, AFailedLentWriteIsReportedAtTheNextSettleOnce) {
  HypercallHandler h(memory_, {DeviceSlot{read_only_fd_, kSize, true}}, 1 << 16);
  EXPECT_EQ(lend(h, 0, 0, 4, 0x10000), INSTAR_HC_OK);  // queued; fails later
  EXPECT_EQ(settle(h), INSTAR_HC_EIO);
  EXPECT_EQ(settle(h), INSTAR_HC_OK);
}

TEST_F(FailingWriteBehindTest, AResultOrExitOverAnUnreportedFailureEndsTheRun) {
  for (uint32_t call : {uint32_t{INSTAR_HC_RESULT}, uint32_t{INSTAR_HC_EXIT}}) {
    HypercallHandler h(memory_, {DeviceSlot{read_only_fd_, kSize, true}}, 1 << 16);
    EXPECT_EQ(lend(h, 0, 0, 4, 0x10000), INSTAR_HC_OK);
    put(0x2200, instar_hc_result{0x3000, 8, 0, 0});
    HypercallOutcome outcome = h.handle(call, 0x2200);
    EXPECT_EQ(outcome.kind, HypercallOutcome::Kind::fail);
    EXPECT_NE(outcome.error.find("lent"), std::string::npos) << outcome.error;
    EXPECT_FALSE(h.has_result());
  }
}

TEST_F(WriteBehindTest, AConfinedWriterWritesAndEnds) {
  // The thread installs its own seccomp filter (only pwrite64 on this descriptor, futex, exit, ...):
  // its writes land and it can still wait and end.
  HypercallHandler h(memory_, {DeviceSlot{fd_, kSize, true}}, 1 << 16, /*confine_writer=*/true);
  ASSERT_TRUE(h.lends_writes()) << "the writer thread could not install its seccomp filter";
  std::memcpy(memory_.host_base() + 0x10000, "kept", 4);
  EXPECT_EQ(lend(h, 0, 8, 4, 0x10000), INSTAR_HC_OK);
  EXPECT_EQ(settle(h), INSTAR_HC_OK);
  EXPECT_EQ(file_bytes(8, 4), "kept");
}

}  // namespace
}  // namespace instar::vmm
