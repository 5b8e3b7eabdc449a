// hypercall_handler.cc: copies each argument struct out of guest memory once
// (no double fetch), checks every field, performs the call, copies OUT fields back.
#include "vmm/hypercall_handler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "vmm/abi/instar_abi.h"
#include "vmm/write_behind.h"

namespace instar::vmm {

namespace {

HypercallOutcome fail(std::string why) {
  return HypercallOutcome{HypercallOutcome::Kind::fail, 0, std::move(why)};
}
HypercallOutcome resume() { return HypercallOutcome{}; }

template <typename T>
bool fetch(const GuestMemory& memory, uint64_t gpa, T& out) {
  auto p = memory.checked(gpa, sizeof(T));
  if (p.is_error()) return false;
  std::memcpy(&out, p.value(), sizeof(T));
  return true;
}

template <typename T>
void store(const GuestMemory& memory, uint64_t gpa, const T& value) {
  auto p = memory.checked(gpa, sizeof(T));
  if (p.is_ok()) std::memcpy(p.value(), &value, sizeof(T));
}

const char* const kBadArgument = "guest passed a hypercall argument outside its memory";

}  // namespace

std::string exception_name(uint64_t vector) {
  static const char* const kNames[32] = {"#DE", "#DB",   "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                         "#DF", nullptr, "#TS", "#NP", "#SS", "#GP", "#PF", nullptr,
                                         "#MF", "#AC",   "#MC", "#XM", "#VE", "#CP"};
  if (vector < 32 && kNames[vector] != nullptr) return kNames[vector];
  return "vector " + std::to_string(vector);
}

HypercallHandler::HypercallHandler(const GuestMemory& memory, std::vector<DeviceSlot> devices,
                                   uint64_t max_record_bytes)
    : memory_(memory), devices_(std::move(devices)), max_record_(max_record_bytes) {
  // Reserved up front so that receiving the result allocates nothing under seccomp.
  result_.reserve(static_cast<size_t>(max_record_));
}

HypercallOutcome HypercallHandler::handle(uint32_t call, uint64_t gpa) {
  if (writes_ != nullptr) {
    // The posted write goes to the I/O thread; anything but a read of a read-only device (block_io
    // decides) waits for it, so that the guest's calls keep their order.
    writes_->kick();
    if (call != INSTAR_HC_BLOCK_READ) writes_->wait_idle();
  }
  switch (call) {
    case INSTAR_HC_BLOCK_READ:
      return block_io(gpa, false);
    case INSTAR_HC_BLOCK_WRITE:
      return block_io(gpa, true);
    case INSTAR_HC_DEVICE_SIZE:
      return device_size(gpa);
    case INSTAR_HC_BLOCK_EXTENT:
      return block_extent(gpa);
    case INSTAR_HC_BLOCK_ZERO:
      return block_zero(gpa);
    case INSTAR_HC_RESULT:
      return result(gpa);
    case INSTAR_HC_LOG:
      return log(gpa);
    case INSTAR_HC_EXIT: {
      instar_hc_exit arg;
      if (!fetch(memory_, gpa, arg)) return fail(kBadArgument);
      return HypercallOutcome{HypercallOutcome::Kind::exit, arg.status, ""};
    }
    case INSTAR_HC_EXCEPTION:
      return exception(gpa);
    case INSTAR_HC_WRITE_WAIT:  // handle() has waited for the posted write
      if (writes_ == nullptr) return fail("guest waited on a write-behind slot it was not given");
      return resume();
    default:
      return fail("guest made an unknown hypercall " + std::to_string(call));
  }
}

HypercallOutcome HypercallHandler::block_io(uint64_t gpa, bool write) {
  // Read and write share a layout; the static_assert keeps it that way.
  static_assert(sizeof(instar_hc_block_read) == sizeof(instar_hc_block_write));
  instar_hc_block_read arg;
  if (!fetch(memory_, gpa, arg)) return fail(kBadArgument);
  if (writes_ != nullptr && (arg.device >= devices_.size() || devices_[arg.device].writable)) writes_->wait_idle();
  BlockIoAnswer answer = perform_block_io(memory_, devices_, arg, write);
  if (!answer.fatal.empty()) return fail(answer.fatal);
  arg.status = answer.status;
  store(memory_, gpa, arg);
  return resume();
}

BlockIoAnswer perform_block_io(const GuestMemory& memory, const std::vector<DeviceSlot>& devices,
                               const instar_hc_block_read& arg, bool write) {
  BlockIoAnswer answer;
  answer.status = INSTAR_HC_EINVAL;
  if (arg.device >= devices.size()) return answer;
  const DeviceSlot& dev = devices[arg.device];
  answer.status = INSTAR_HC_EPERM;
  if (write && !dev.writable) return answer;
  answer.status = INSTAR_HC_EINVAL;
  if (arg.length > kMaxIoBytes) return answer;
  // Reads stay inside the device; so do writes: an output has the size the host gave it.
  answer.status = INSTAR_HC_EIO;
  if (arg.offset > dev.size || arg.length > dev.size - arg.offset) return answer;
  auto buffer = memory.checked(arg.buffer_gpa, arg.length);
  if (buffer.is_error()) {
    answer.fatal = "guest passed an I/O buffer outside its memory";
    return answer;
  }
  uint8_t* p = buffer.value();
  uint64_t offset = arg.offset, left = arg.length;
  while (left > 0) {
    ssize_t n = write ? pwrite(dev.fd, p, left, static_cast<off_t>(offset))
                      : pread(dev.fd, p, left, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return answer;
    p += n;
    offset += static_cast<uint64_t>(n);
    left -= static_cast<uint64_t>(n);
  }
  answer.status = INSTAR_HC_OK;
  return answer;
}

HypercallOutcome HypercallHandler::device_size(uint64_t gpa) {
  instar_hc_device_size arg;
  if (!fetch(memory_, gpa, arg)) return fail(kBadArgument);
  if (arg.device >= devices_.size()) {
    arg.status = INSTAR_HC_EINVAL;
  } else {
    arg.size = devices_[arg.device].size;
    arg.allocated = devices_[arg.device].allocated;
    arg.status = INSTAR_HC_OK;
  }
  store(memory_, gpa, arg);
  return resume();
}

HypercallOutcome HypercallHandler::block_extent(uint64_t gpa) {
  instar_hc_block_extent arg;
  if (!fetch(memory_, gpa, arg)) return fail(kBadArgument);
  arg.status = INSTAR_HC_EINVAL;
  if (arg.device < devices_.size() && arg.offset < devices_[arg.device].size) {
    const DeviceSlot& dev = devices_[arg.device];
    DeviceExtentAnswer answer = query_extent(dev.fd, dev.size, arg.offset);
    arg.status = answer.ok ? INSTAR_HC_OK : INSTAR_HC_EIO;
    arg.data = answer.data ? 1 : 0;
    arg.length = answer.length;
  }
  store(memory_, gpa, arg);
  return resume();
}

HypercallOutcome HypercallHandler::block_zero(uint64_t gpa) {
  instar_hc_block_zero arg;
  if (!fetch(memory_, gpa, arg)) return fail(kBadArgument);
  if (arg.device >= devices_.size()) {
    arg.status = INSTAR_HC_EINVAL;
  } else if (!devices_[arg.device].writable) {
    arg.status = INSTAR_HC_EPERM;
  } else if (arg.offset > devices_[arg.device].size || arg.length > devices_[arg.device].size - arg.offset) {
    // An output has the size the host gave it: the guest never grows it.
    arg.status = INSTAR_HC_EIO;
  } else {
    const DeviceSlot& dev = devices_[arg.device];
    arg.status = zero_range(dev.fd, arg.offset, arg.length, arg.unmap != 0) ? INSTAR_HC_OK : INSTAR_HC_EIO;
  }
  store(memory_, gpa, arg);
  return resume();
}

bool zero_range(int fd, uint64_t offset, uint64_t length, bool unmap) {
  if (length == 0) return true;
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  // Within the file a hole or a zero range; past its end the file grows.
  if (offset < size) {
    uint64_t inside = size - offset < length ? size - offset : length;
    int mode = unmap ? (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) : FALLOC_FL_ZERO_RANGE;
    if (fallocate(fd, mode, static_cast<off_t>(offset), static_cast<off_t>(inside)) != 0) {
      static const uint8_t kZeroes[65536] = {};
      for (uint64_t done = 0; done < inside;) {
        size_t n = inside - done < sizeof kZeroes ? static_cast<size_t>(inside - done) : sizeof kZeroes;
        ssize_t w = pwrite(fd, kZeroes, n, static_cast<off_t>(offset + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        done += static_cast<uint64_t>(w);
      }
    }
    offset += inside;
    length -= inside;
  }
  if (length > 0 && ftruncate(fd, static_cast<off_t>(offset + length)) != 0) return false;
  return true;
}

DeviceExtentAnswer query_extent(int fd, uint64_t size, uint64_t offset) {
  // qemu's find_allocation: SEEK_DATA, then SEEK_HOLE from the data found.
  DeviceExtentAnswer a;
  off_t data = lseek(fd, static_cast<off_t>(offset), SEEK_DATA);
  if (data < 0) {
    if (errno == ENXIO) {  // a hole to the end of the file
      a.ok = true;
      a.data = false;
      a.length = size - offset;
      return a;
    }
    // No information: everything is data, as qemu assumes.
    a.ok = true;
    a.data = true;
    a.length = size - offset;
    return a;
  }
  uint64_t d = static_cast<uint64_t>(data);
  if (d > offset) {
    a.ok = true;
    a.data = false;
    a.length = (d < size ? d : size) - offset;
    return a;
  }
  off_t hole = lseek(fd, static_cast<off_t>(offset), SEEK_HOLE);
  uint64_t h = hole < 0 ? size : static_cast<uint64_t>(hole);
  if (h > size) h = size;
  if (h <= offset) h = size;
  a.ok = true;
  a.data = true;
  a.length = h - offset;
  return a;
}

HypercallOutcome HypercallHandler::result(uint64_t gpa) {
  instar_hc_result arg;
  if (!fetch(memory_, gpa, arg)) return fail(kBadArgument);
  if (has_result_) return fail("guest sent a second result record");
  if (arg.length > max_record_) return fail("guest result record is larger than allowed");
  auto bytes = memory_.checked(arg.record_gpa, arg.length);
  if (bytes.is_error()) return fail("guest passed a result record outside its memory");
  result_.assign(bytes.value(), bytes.value() + arg.length);
  has_result_ = true;
  arg.status = INSTAR_HC_OK;
  store(memory_, gpa, arg);
  return resume();
}

HypercallOutcome HypercallHandler::log(uint64_t gpa) {
  instar_hc_log arg;
  if (!fetch(memory_, gpa, arg)) return fail(kBadArgument);
  if (arg.length > INSTAR_LOG_MAX) return fail("guest log line is longer than allowed");
  auto text = memory_.checked(arg.text_gpa, arg.length);
  if (text.is_error()) return fail(kBadArgument);
  if (std::getenv("INSTAR_GUEST_LOG") != nullptr) {
    std::string line(reinterpret_cast<const char*>(text.value()), arg.length);
    for (char& c : line)
      if (c < 0x20 || c > 0x7e) c = '?';  // never pass control characters to the terminal
    std::fprintf(stderr, "guest: %s\n", line.c_str());
  }
  return resume();
}

HypercallOutcome HypercallHandler::exception(uint64_t gpa) {
  instar_hc_exception arg;
  if (!fetch(memory_, gpa, arg)) return fail(kBadArgument);
  char rip[32];
  std::snprintf(rip, sizeof rip, "0x%" PRIx64, arg.rip);
  return fail("guest exception " + exception_name(arg.vector) + " at RIP " + rip);
}

}  // namespace instar::vmm
