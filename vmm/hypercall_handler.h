// hypercall_handler.h: the host side of every hypercall. It needs no KVM: it
// takes a call number and the guest's argument address, so tests and fuzzing
// drive it with hostile arguments against a real guest memory region.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vmm/guest_memory.h"
#include "vmm/write_behind.h"

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

class HypercallHandler {
 public:
  // `confine_writer`: the writer thread (started only when a device is writable) installs its own
  // seccomp filter; the monitor asks for it, unit tests and fuzzing do not.
  HypercallHandler(const GuestMemory& memory, std::vector<DeviceSlot> devices, uint64_t max_record_bytes,
                   bool confine_writer = false);

  // Handles call `call` whose argument struct is at guest-physical `argument_gpa`.
  HypercallOutcome handle(uint32_t call, uint64_t argument_gpa);

  bool has_result() const { return has_result_; }
  // Whether lent writes go to the writer thread (a writable device, and the thread confined itself).
  bool lends_writes() const { return writer_ != nullptr; }
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
  HypercallOutcome settle(uint64_t gpa);
  // Completes every lent write; true if one failed and the guest has not been told yet.
  bool drain_lent_writes();

  const GuestMemory& memory_;
  std::vector<DeviceSlot> devices_;
  uint64_t max_record_;
  std::vector<uint8_t> result_;
  bool has_result_ = false;
  std::unique_ptr<WriteBehind> writer_;  // null without writable devices
  bool lent_write_failed_ = false;      // a lent write failed; the next settle reports it
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
