// hypercall_handler.h: the host side of every hypercall. It needs no KVM: it
// takes a call number and the guest's argument address, so tests and fuzzing
// drive it with hostile arguments against a real guest memory region.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/abi/instar_abi.h"
#include "vmm/guest_memory.h"

namespace instar::vmm {

struct DeviceSlot {
  int fd = -1;
  uint64_t size = 0;
  bool writable = false;  // inputs are read-only; only outputs are read-write
  uint64_t allocated = 0;  // st_blocks * 512, reported to the guest
};

struct HypercallOutcome {
  enum class Kind { resume, exit, fail } kind = Kind::resume;
  uint32_t exit_status = 0;
  std::string error;  // one line, for kind == fail
};

inline constexpr uint64_t kMaxIoBytes = 64ull << 20;

class WriteBehind;

// One block read or write as the guest asked for it (device, offset, length, buffer), checked
// against the device and guest memory and performed. `fatal` is set (and nothing done) when the
// buffer is not guest memory: the run fails. Shared by the hypercalls and the write-behind slot.
struct BlockIoAnswer {
  int32_t status = 0;
  std::string fatal;
};
BlockIoAnswer perform_block_io(const GuestMemory& memory, const std::vector<DeviceSlot>& devices,
                               const struct instar_hc_block_read& request, bool write);

class HypercallHandler {
 public:
  HypercallHandler(const GuestMemory& memory, std::vector<DeviceSlot> devices, uint64_t max_record_bytes);

  // Handles call `call` whose argument struct is at guest-physical `argument_gpa`.
  HypercallOutcome handle(uint32_t call, uint64_t argument_gpa);

  // The write-behind slot: every call first hands its posted write to the I/O thread, and all but a
  // read of a read-only device wait for it. Without one, INSTAR_HC_WRITE_WAIT fails the run.
  void set_write_behind(WriteBehind* writes) { writes_ = writes; }

  bool has_result() const { return has_result_; }
  const std::vector<uint8_t>& result() const { return result_; }
  // Hands the result over without a copy: the vCPU thread must not allocate a large block under its
  // seccomp filter (glibc grows a thread's arena with mprotect).
  std::vector<uint8_t> take_result() { return std::move(result_); }

 private:
  HypercallOutcome block_io(uint64_t gpa, bool write);
  HypercallOutcome device_size(uint64_t gpa);
  HypercallOutcome block_extent(uint64_t gpa);
  HypercallOutcome block_zero(uint64_t gpa);
  HypercallOutcome result(uint64_t gpa);
  HypercallOutcome log(uint64_t gpa);
  HypercallOutcome exception(uint64_t gpa);

  const GuestMemory& memory_;
  std::vector<DeviceSlot> devices_;
  uint64_t max_record_;
  std::vector<uint8_t> result_;
  bool has_result_ = false;
  WriteBehind* writes_ = nullptr;
};

// The data/hole extent of a host file at `offset` (< size), by SEEK_DATA and
// SEEK_HOLE; shared by the monitor and the file BlockDevice.
struct DeviceExtentAnswer {
  bool ok = false;
  bool data = true;
  uint64_t length = 0;
};
DeviceExtentAnswer query_extent(int fd, uint64_t size, uint64_t offset);

// Zeroes [offset, offset + length) of a host file: fallocate PUNCH_HOLE (unmap)
// or ZERO_RANGE, falling back to writing zero bytes. Returns false on failure.
bool zero_range(int fd, uint64_t offset, uint64_t length, bool unmap);

// "#UD" for 6, "#PF" for 14, ...; "vector N" otherwise.
std::string exception_name(uint64_t vector);

}  // namespace instar::vmm
