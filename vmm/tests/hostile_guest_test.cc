#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "vmm/kvm_vm.h"

namespace instar::vmm {
namespace {

// Each scenario runs the test guest in its own thread (the vCPU thread gets the
// seccomp filter), against a read-only 64 KiB file that must stay unchanged.
class HostileGuestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kvm_usable()) GTEST_SKIP() << "/dev/kvm is not usable here, so real guests cannot run";
    std::ifstream in(INSTAR_HOSTILE_GUEST_ELF, std::ios::binary);
    elf_.assign(std::istreambuf_iterator<char>(in), {});
    ASSERT_FALSE(elf_.empty());
    char path[] = "/tmp/instar-hostile-XXXXXX";
    fd_ = mkstemp(path);
    ASSERT_GE(fd_, 0);
    unlink(path);
    content_.assign(65536, 0x5a);
    ASSERT_EQ(write(fd_, content_.data(), content_.size()), 65536);
  }
  void TearDown() override {
    if (fd_ < 0) return;
    std::vector<uint8_t> now(content_.size());
    EXPECT_EQ(pread(fd_, now.data(), now.size(), 0), static_cast<ssize_t>(now.size()));
    EXPECT_EQ(now, content_) << "the device changed";
    close(fd_);
  }
  VmRun run(uint8_t scenario, uint32_t timeout_ms = 5000, int output_fd = -1) {
    VmConfig config;
    config.memory_bytes = 64ull << 20;
    config.timeout_ms = timeout_ms;
    uint8_t request[1] = {scenario};
    VmRun result;
    std::vector<DeviceSlot> devices{DeviceSlot{fd_, 65536, false}};
    if (output_fd >= 0) devices.push_back(DeviceSlot{output_fd, 4096, true});
    std::thread vcpu([&] { result = run_guest(ByteSpan(elf_.data(), elf_.size()), ByteSpan(request, 1), devices, config); });
    vcpu.join();
    return result;
  }

  // A 4 KiB writable output of zeroes, for the scenarios that need the write-behind slot (offered
  // only with a writable device attached); -1 on failure.
  static int make_output() {
    char path[] = "/tmp/instar-hostile-out-XXXXXX";
    int out = mkstemp(path);
    if (out < 0) return -1;
    unlink(path);
    if (ftruncate(out, 4096) != 0) {
      close(out);
      return -1;
    }
    return out;
  }

  std::vector<uint8_t> elf_, content_;
  int fd_ = -1;
};

TEST_F(HostileGuestTest, InfiniteLoopTimesOutWithinTheLimit) {
  auto start = std::chrono::steady_clock::now();
  VmRun r = run(0, 500);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "guest did not finish within 500 ms");
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_F(HostileGuestTest, InvalidOpcodeNamesVectorAndRip) {
  VmRun r = run(1);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind("guest exception #UD at RIP 0x1", 0), 0u) << r.error;
}

TEST_F(HostileGuestTest, NullReadIsAPageFault) {
  VmRun r = run(2);
  EXPECT_EQ(r.error.rfind("guest exception #PF at RIP 0x1", 0), 0u) << r.error;
}

TEST_F(HostileGuestTest, NonCanonicalAccessIsAGeneralProtectionFault) {
  VmRun r = run(3);
  EXPECT_EQ(r.error.rfind("guest exception #GP at RIP 0x1", 0), 0u) << r.error;
}

TEST_F(HostileGuestTest, TripleFaultIsAnError) {
  VmRun r = run(4);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "guest triple fault (CPU shutdown)");
}

TEST_F(HostileGuestTest, HypercallArgumentOutsideMemoryIsAnError) {
  VmRun r = run(5);
  EXPECT_EQ(r.error, "guest passed a hypercall argument outside its memory");
}

TEST_F(HostileGuestTest, OverflowingBufferAddressIsAnError) {
  VmRun r = run(6);
  EXPECT_EQ(r.error, "guest passed an I/O buffer outside its memory");
}

TEST_F(HostileGuestTest, OversizedResultIsAnError) {
  VmRun r = run(7);
  EXPECT_EQ(r.error, "guest result record is larger than allowed");
}

TEST_F(HostileGuestTest, ReadPastDeviceEndIsReportedToTheGuest) {
  VmRun r = run(8);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.exit_status, 10u);
}

TEST_F(HostileGuestTest, WriteToReadOnlyDeviceIsRefused) {
  VmRun r = run(9);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.exit_status, 10u);
}

TEST_F(HostileGuestTest, ArenaExhaustionIsACleanError) {
  VmRun r = run(10);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.exit_status, 10u);
}

TEST_F(HostileGuestTest, UnexpectedPortIsAnError) {
  VmRun r = run(11);
  EXPECT_EQ(r.error.rfind("guest made an unexpected port access", 0), 0u) << r.error;
}

TEST_F(HostileGuestTest, HaltInRingThreeIsAnError) {
  // The guest runs in ring 3, where cli and hlt fault: the stub reports #GP.
  VmRun r = run(12);
  EXPECT_EQ(r.error.rfind("guest exception #GP", 0), 0u) << r.error;
}

TEST_F(HostileGuestTest, PostedWriteFromOutsideMemoryIsAnError) {
  int out = make_output();
  ASSERT_GE(out, 0);
  VmRun r = run(13, 5000, out);
  char bytes[4096], zeroes[4096] = {};
  EXPECT_EQ(pread(out, bytes, sizeof bytes, 0), 4096);
  close(out);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "guest passed an I/O buffer outside its memory");
  EXPECT_EQ(std::memcmp(bytes, zeroes, sizeof bytes), 0) << "the output was written";
}

TEST_F(HostileGuestTest, PostedWriteToReadOnlyDeviceIsRefused) {
  int out = make_output();
  ASSERT_GE(out, 0);
  VmRun r = run(14, 5000, out);
  close(out);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.exit_status, 10u);
}

TEST_F(HostileGuestTest, NoWriteBehindSlotWithoutAWritableDevice) {
  VmRun r = run(14);  // finds the slot not offered and exits with "missed"
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.exit_status, 11u);
}

}  // namespace
}  // namespace instar::vmm
