// kvm_vm.cc: KVM ioctls, page tables, segment set-up, timer and exit loop.
#include "vmm/kvm_vm.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>

#include "vmm/abi/instar_abi.h"
#include "vmm/elf_loader.h"
#include "vmm/guest_cpuid.h"
#include "vmm/write_behind.h"

namespace instar::vmm {

namespace {

const int kTimerSignal = SIGRTMIN + 3;

// g++ sizes `struct kvm_cpuid2` (which ends in a zero-length array) as 12 bytes,
// not the kernel's 8, which changes the ioctl number; spell them with the C size.
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, uint64_t);

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

void store_u64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

// Identity map of guest RAM in 4 KiB pages, the null page left unmapped. The
// page tables themselves sit at the top of RAM, outside what the guest is told
// it has. 4 KiB pages (not 2 MiB): with shadow-paging KVM implementations a
// guest touching a large page makes the host back all of it, which dominated
// launch time. Returns the end of the memory the guest may use.
// Identity map of all guest memory: 2 MiB pages, except the first 2 MiB, mapped
// page by page so that the null page and the page tables themselves stay
// unmapped. Four table pages however large the memory (one page directory
// covers the 1 GiB cap), so set-up costs the same at 16 MiB and at 1 GiB.
// Returns how much of the memory the guest may use: all of it.
uint64_t build_page_tables(GuestMemory& memory) {
  uint8_t* base = memory.host_base();
  const uint64_t pml4 = INSTAR_GPA_PAGE_TABLES, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
  const uint64_t low = INSTAR_GPA_LOW_PAGE_TABLE;
  // User pages: the guest runs in ring 3 (see the segment set-up below).
  constexpr uint64_t kPresent = 1, kWritable = 2 | 4, kLarge = 0x80;
  store_u64(base + pml4, pdpt | kPresent | kWritable);
  store_u64(base + pdpt, pd | kPresent | kWritable);
  store_u64(base + pd, low | kPresent | kWritable);
  for (uint64_t i = 1; i < 512; i++) {
    uint64_t page = i << 12;
    bool table = (page >= pml4 && page < pd + 0x1000) || page == low;
    if (!table) store_u64(base + low + i * 8, page | kPresent | kWritable);
  }
  for (uint64_t t = 1; t < (memory.size() >> 21); t++) store_u64(base + pd + t * 8, (t << 21) | kPresent | kWritable | kLarge);
  return memory.size();
}

void write_gdt(GuestMemory& memory) {
  uint8_t* gdt = memory.host_base() + INSTAR_GPA_GDT;
  store_u64(gdt, 0);
  store_u64(gdt + 8, 0x00af9a000000ffffull);   // 64-bit code, DPL 0
  store_u64(gdt + 16, 0x00cf92000000ffffull);  // data
  store_u64(gdt + 24, 0x00cff2000000ffffull);  // data, DPL 3
  store_u64(gdt + 32, 0x00affa000000ffffull);  // 64-bit code, DPL 3
  // The TSS's RSP0: the stack an exception taken in ring 3 switches to.
  store_u64(memory.host_base() + INSTAR_GPA_TSS + 4, INSTAR_GPA_EXCEPTION_STACK_TOP);
}

kvm_segment segment(uint16_t selector, uint8_t type, bool code) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xffffffff;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = 0;
  s.db = code ? 0 : 1;
  s.s = 1;
  s.l = code ? 1 : 0;
  s.g = 1;
  return s;
}

void on_timer(int) {}

// The vCPU thread's allowlist: KVM_RUN on its vCPU, device I/O, and what thread exit needs.
bool install_vcpu_seccomp(int vcpu_fd, const std::vector<DeviceSlot>& devices) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return false;
  bool ok = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
                             SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(vcpu_fd)),
                             SCMP_A1(SCMP_CMP_EQ, KVM_RUN)) == 0;
  for (const DeviceSlot& d : devices) {
    ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(pread64), 1,
                           SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(d.fd))) == 0;
    // SEEK_DATA / SEEK_HOLE for the extent call.
    ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(lseek), 1,
                           SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(d.fd))) == 0;
    if (d.writable) {
      for (int sys : {SCMP_SYS(pwrite64), SCMP_SYS(fallocate), SCMP_SYS(ftruncate), SCMP_SYS(fstat),
                      SCMP_SYS(newfstatat)})
        ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys, 1, SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(d.fd))) ==
              0;
    }
  }
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, 2)) == 0;
  for (int sys : {SCMP_SYS(rt_sigreturn), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(futex),
                  SCMP_SYS(madvise), SCMP_SYS(munmap), SCMP_SYS(brk), SCMP_SYS(clock_gettime),
                  SCMP_SYS(rt_sigprocmask), SCMP_SYS(close), SCMP_SYS(timer_delete), SCMP_SYS(sigaltstack),
                  SCMP_SYS(sched_yield)})  // sched_yield: std::atomic's wait (the write-behind slot)
    ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys, 0) == 0;
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) ==
        0;
  // glibc grows a thread's malloc arena with mprotect(PROT_READ | PROT_WRITE); never executable either.
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                         SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) == 0;
  ok = ok && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}

VmRun failure(std::string why) {
  VmRun r;
  r.error = std::move(why);
  return r;
}

}  // namespace

bool kvm_usable() {
  Fd kvm{open("/dev/kvm", O_RDWR | O_CLOEXEC)};
  return kvm.fd >= 0 && ioctl(kvm.fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
}

VmRun run_guest(ByteSpan guest_elf, ByteSpan request, const std::vector<DeviceSlot>& devices,
                const VmConfig& config) {
  Fd kvm{open("/dev/kvm", O_RDWR | O_CLOEXEC)};
  if (kvm.fd < 0) return failure("kvm: cannot open /dev/kvm: " + std::string(std::strerror(errno)));
  if (ioctl(kvm.fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
    return failure("kvm: unsupported API version");
  Fd vm{ioctl(kvm.fd, KVM_CREATE_VM, 0)};
  if (vm.fd < 0) return failure("kvm: cannot create a VM: " + std::string(std::strerror(errno)));

  GuestMemory memory;
  if (auto r = memory.allocate(config.memory_bytes); r.is_error())
    return failure(std::string("kvm: ") + r.error().message);
  kvm_userspace_memory_region region{};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = memory.size();
  region.userspace_addr = reinterpret_cast<uint64_t>(memory.host_base());
  if (ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &region) != 0) return failure("kvm: cannot add guest memory");

  auto entry = load_elf(guest_elf, memory, INSTAR_GPA_IMAGE);
  if (entry.is_error()) return failure(std::string("kvm: ") + entry.error().message);
  write_gdt(memory);
  uint64_t usable = build_page_tables(memory);
  instar_boot_info boot{};
  if (request.size > sizeof boot.request) return failure("kvm: request too large for the boot page");
  boot.abi_version = INSTAR_ABI_VERSION;
  boot.device_count = static_cast<uint32_t>(devices.size());
  boot.memory_bytes = usable;
  boot.request_bytes = request.size;
  std::memcpy(boot.request, request.data, request.size);
  std::memcpy(memory.host_base() + INSTAR_GPA_BOOT_INFO, &boot, sizeof boot);
  uint64_t canary = 0;
  if (getrandom(&canary, sizeof canary, 0) != sizeof canary) canary = 0x5a17c0de5a17c0deull;
  store_u64(memory.host_base() + INSTAR_GPA_TLS + 0x28, canary);

  Fd vcpu{ioctl(vm.fd, KVM_CREATE_VCPU, 0)};
  if (vcpu.fd < 0) return failure("kvm: cannot create a vCPU");
  int run_size = ioctl(kvm.fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < static_cast<int>(sizeof(kvm_run))) return failure("kvm: bad vCPU mapping size");
  void* run_map =
      mmap(nullptr, static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu.fd, 0);
  if (run_map == MAP_FAILED) return failure("kvm: cannot map the vCPU");
  std::unique_ptr<void, std::function<void(void*)>> run_guard(run_map,
                                                              [run_size](void* p) { munmap(p, run_size); });
  auto* run = static_cast<kvm_run*>(run_map);

  // The host's CPUID, reduced to the leaves and features the guest may use (vmm/guest_cpuid.cc).
  GuestCpuid cpuid = guest_cpuid();
  if (ioctl(vcpu.fd, kSetCpuid2, &cpuid) != 0)
    return failure("kvm: cannot set CPUID: " + std::string(std::strerror(errno)));

  kvm_sregs sregs{};
  if (ioctl(vcpu.fd, KVM_GET_SREGS, &sregs) != 0) return failure("kvm: cannot read special registers");
  // The guest runs in ring 3. Under kvm_pvm, ring-0 guest code is emulated
  // instruction by instruction (a table scan ran ~300x slower than in-process)
  // while ring-3 code runs natively; only the exception stubs run in ring 0,
  // and a hypercall's `out` reaches them as a #GP (guest/boot.S, isr13).
  sregs.cs = segment(0x23, 11, true);
  sregs.ds = sregs.es = sregs.ss = sregs.gs = segment(0x1b, 3, false);
  sregs.fs = segment(0x1b, 3, false);
  for (kvm_segment* s : {&sregs.cs, &sregs.ds, &sregs.es, &sregs.ss, &sregs.gs, &sregs.fs}) s->dpl = 3;
  sregs.fs.base = INSTAR_GPA_TLS;
  // VMX needs a 64-bit busy TSS in TR even though the guest never switches tasks;
  // without it KVM falls back to emulating every instruction.
  sregs.tr = kvm_segment{};
  sregs.tr.limit = 0x67;
  sregs.tr.base = INSTAR_GPA_TSS;
  sregs.tr.type = 11;
  sregs.tr.present = 1;
  sregs.ldt = kvm_segment{};
  sregs.ldt.type = 2;
  sregs.ldt.present = 1;
  sregs.ldt.unusable = 1;
  sregs.gdt.base = INSTAR_GPA_GDT;
  sregs.gdt.limit = 39;
  // The guest fills the gates; lidt is not for ring 3.
  sregs.idt.base = INSTAR_GPA_IDT;
  sregs.idt.limit = 32 * 16 - 1;
  sregs.cr3 = INSTAR_GPA_PAGE_TABLES;
  sregs.cr4 = (1u << 5) | (1u << 9) | (1u << 10) | (1u << 18);  // PAE, OSFXSR, OSXMMEXCPT, OSXSAVE
  sregs.cr0 = (1u << 0) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 16) | (1u << 31);  // PE MP ET NE WP PG
  sregs.efer = (1u << 8) | (1u << 10);                                                  // LME, LMA
  if (ioctl(vcpu.fd, KVM_SET_SREGS, &sregs) != 0) return failure("kvm: cannot set special registers");
  // x87 and SSE state enabled in XCR0: some KVM implementations (PVM) run the
  // guest's SSE instructions only when the guest's XCR0 says so.
  kvm_xcrs xcrs{};
  xcrs.nr_xcrs = 1;
  xcrs.xcrs[0].xcr = 0;
  xcrs.xcrs[0].value = 0x3;
  if (ioctl(vcpu.fd, KVM_SET_XCRS, &xcrs) != 0)
    return failure("kvm: cannot enable SSE state (XCR0): " + std::string(std::strerror(errno)));
  kvm_regs regs{};
  regs.rip = entry.value();
  regs.rflags = 2;
  if (ioctl(vcpu.fd, KVM_SET_REGS, &regs) != 0) return failure("kvm: cannot set registers");

  // The wall-clock limit: a timer signal to this thread makes KVM_RUN return
  // EINTR; it repeats so that a signal landing outside KVM_RUN is not lost.
  struct sigaction sa {};
  sa.sa_handler = on_timer;
  sigaction(kTimerSignal, &sa, nullptr);
  sigevent sev{};
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = kTimerSignal;
  sev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
  timer_t timer;
  if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0) return failure("kvm: cannot create the timer");
  std::unique_ptr<void, std::function<void(void*)>> timer_guard(timer, [](void* t) { timer_delete(t); });
  itimerspec its{};
  its.it_value.tv_sec = config.timeout_ms / 1000;
  its.it_value.tv_nsec = static_cast<long>(config.timeout_ms % 1000) * 1000000;
  its.it_interval.tv_nsec = 10 * 1000000;
  if (timer_settime(timer, 0, &its, nullptr) != 0) return failure("kvm: cannot arm the timer");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.timeout_ms);

  // The write-behind slot and its I/O thread (started before this thread's filter forbids it), where
  // there is something to write: starting and joining the thread costs ~0.1 ms a run.
  bool writable = false;
  for (const DeviceSlot& d : devices) writable = writable || d.writable;
  WriteBehind writes(memory, devices, writable, config.seccomp);
  if (writable && writes.started()) {
    instar_write_slot slot{};
    slot.available = 1;
    std::memcpy(memory.host_base() + INSTAR_GPA_WRITE_SLOT, &slot, sizeof slot);
  }

  HypercallHandler handler(memory, devices, config.max_record_bytes);
  if (writable && writes.started()) handler.set_write_behind(&writes);
  if (config.seccomp && !install_vcpu_seccomp(vcpu.fd, devices))
    return failure("kvm: cannot install seccomp filter");

  for (;;) {
    if (ioctl(vcpu.fd, KVM_RUN, 0) != 0) {
      if (errno == EINTR || errno == EAGAIN) {
        if (std::chrono::steady_clock::now() >= deadline)
          return failure("guest did not finish within " + std::to_string(config.timeout_ms) + " ms");
        continue;
      }
      return failure("kvm: KVM_RUN failed: " + std::string(std::strerror(errno)));
    }
    switch (run->exit_reason) {
      case KVM_EXIT_IO: {
        uint32_t port = run->io.port;
        if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || run->io.count != 1 ||
            port <= INSTAR_HC_PORT_BASE || port >= INSTAR_HC_PORT_BASE + INSTAR_HC_COUNT)
          return failure("guest made an unexpected port access at 0x" + std::to_string(port));
        uint32_t gpa;
        std::memcpy(&gpa, reinterpret_cast<uint8_t*>(run) + run->io.data_offset, sizeof gpa);
        HypercallOutcome outcome = handler.handle(port - INSTAR_HC_PORT_BASE, gpa);
        if (outcome.kind == HypercallOutcome::Kind::fail) return failure(outcome.error);
        if (writes.failed()) return failure(writes.failure());
        if (outcome.kind == HypercallOutcome::Kind::exit) {
          VmRun done;
          done.ok = true;
          done.exit_status = outcome.exit_status;
          done.has_record = handler.has_result();
          done.record = handler.take_result();
          return done;
        }
        break;
      }
      case KVM_EXIT_INTR:
        if (std::chrono::steady_clock::now() >= deadline)
          return failure("guest did not finish within " + std::to_string(config.timeout_ms) + " ms");
        break;
      case KVM_EXIT_HLT:
        return failure("guest halted without exiting");
      case KVM_EXIT_SHUTDOWN:
        return failure("guest triple fault (CPU shutdown)");
      case KVM_EXIT_FAIL_ENTRY:
        return failure("kvm: guest entry failed");
      case KVM_EXIT_INTERNAL_ERROR:
        // KVM could not run or emulate an instruction (suberror 1 is an emulation failure).
        return failure("kvm: internal error " + std::to_string(run->internal.suberror) +
                       " while running the guest");
      default:
        return failure("guest caused an unexpected exit (reason " + std::to_string(run->exit_reason) + ")");
    }
  }
}

}  // namespace instar::vmm
