// exception.cc: the one C function that runs in ring 0 (called by boot.S's exception stubs). Built with
// -mgeneral-regs-only: kvm_pvm emulates ring-0 code and cannot emulate SSE (docs/sandbox.md).
#include <stdint.h>

#include "guest/hypercall.h"

using instar::guest::guest_exit;
using instar::guest::hypercall;

// Reports the exception to the host, which ends the run with an error naming it.
extern "C" [[noreturn]] void guest_exception(uint64_t vector, uint64_t rip, uint64_t error_code) {
  instar_hc_exception arg{vector, rip, error_code};
  hypercall(INSTAR_HC_EXCEPTION, &arg);
  guest_exit(5);
}
