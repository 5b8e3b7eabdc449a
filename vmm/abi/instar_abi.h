/* instar_abi.h: the one hypercall ABI shared by the guest and the monitor.
 *
 * A hypercall is `out` of a 32-bit guest-physical address to port
 * INSTAR_HC_PORT_BASE + call number; the address points at the call's struct
 * in guest memory. IN fields are set by the guest, OUT fields by the host.
 * Fixed-width types only: the host reads every field as untrusted.
 *
 * A block write may instead be posted in the write-behind slot (struct
 * instar_write_slot) without a VM exit: a host I/O thread performs it while the
 * guest goes on, see docs/hypercall-abi.md. */
#ifndef INSTAR_VMM_ABI_INSTAR_ABI_H
#define INSTAR_VMM_ABI_INSTAR_ABI_H

#include <stdint.h>

#define INSTAR_ABI_VERSION 4u
#define INSTAR_HC_PORT_BASE 0x500u

enum instar_hypercall {
  INSTAR_HC_BLOCK_READ = 1,
  INSTAR_HC_BLOCK_WRITE = 2,
  INSTAR_HC_DEVICE_SIZE = 3,
  INSTAR_HC_RESULT = 4,
  INSTAR_HC_LOG = 5,
  INSTAR_HC_EXIT = 6,
  INSTAR_HC_EXCEPTION = 7,
  INSTAR_HC_BLOCK_EXTENT = 8,
  INSTAR_HC_BLOCK_ZERO = 9,
  INSTAR_HC_WRITE_WAIT = 10,
  INSTAR_HC_COUNT = 11
};

/* Guest-physical layout, set up by the monitor before the first instruction. */
#define INSTAR_GPA_GDT 0x1000u        /* GDT: null, code 0x08, data 0x10, user data 0x1b, user code 0x23 */
#define INSTAR_GPA_TSS 0x1800u        /* 64-bit TSS: RSP0 for exceptions taken in ring 3 */
#define INSTAR_GPA_IDT 0x7000u        /* 32 gates, written by the guest, loaded by the monitor */
#define INSTAR_GPA_EXCEPTION_STACK_TOP 0x10000u /* ring-0 stack of the exception stubs, down to 0x8000 */
#define INSTAR_GPA_BOOT_INFO 0x2000u  /* struct instar_boot_info */
#define INSTAR_GPA_TLS 0x3000u        /* FS base: stack-protector canary at +0x28 */
#define INSTAR_GPA_PAGE_TABLES 0x4000u /* PML4, PDPT, PD (2 MiB pages); not mapped for the guest */
#define INSTAR_GPA_LOW_PAGE_TABLE 0x10000u /* 4 KiB pages of the first 2 MiB, without the null page */
#define INSTAR_GPA_WRITE_SLOT 0x11000u /* struct instar_write_slot */
#define INSTAR_GPA_IMAGE 0x100000u    /* the guest ELF is linked to load here */
#define INSTAR_STACK_BYTES (256u * 1024u)

/* Status values in OUT fields. */
#define INSTAR_HC_OK 0
#define INSTAR_HC_EINVAL (-22)
#define INSTAR_HC_EIO (-5)
#define INSTAR_HC_EPERM (-1)

struct instar_boot_info {
  /* Written by the host before boot. */
  uint32_t abi_version;
  uint32_t device_count;
  uint64_t memory_bytes;      /* guest RAM size; identity-mapped from 0 except the null page */
  uint64_t request_bytes;     /* size of the request that follows */
  uint8_t request[4072];      /* the core Request, copied verbatim; the struct fills its page */
};
#ifdef __cplusplus
static_assert(sizeof(struct instar_boot_info) <= INSTAR_GPA_TLS - INSTAR_GPA_BOOT_INFO, "boot info overlaps the TLS page");
#endif

struct instar_hc_block_read {
  /* IN */
  uint32_t device;
  uint32_t reserved;
  uint64_t offset;
  uint64_t length;
  uint64_t buffer_gpa;
  /* OUT */
  int32_t status;
  uint32_t reserved_out;
};

struct instar_hc_block_write {
  /* IN */
  uint32_t device;
  uint32_t reserved;
  uint64_t offset;
  uint64_t length;
  uint64_t buffer_gpa;
  /* OUT */
  int32_t status;
  uint32_t reserved_out;
};

/* The write-behind slot: one block write in flight while the guest goes on.
 * The guest fills `request` (an instar_hc_block_write's fields), then stores
 * `posted` (one more than the last). The host takes it at the guest's next
 * hypercall at the latest, performs it on an I/O thread, stores
 * `request.status`, then `served` = `posted`. Until then the guest leaves the
 * request's buffer alone. Every hypercall but a read of a read-only device
 * waits for the posted write to finish first, so the guest sees its calls in
 * order. A guest that wants the answer spins on `served` or makes the
 * INSTAR_HC_WRITE_WAIT hypercall (argument: the slot), which returns once the
 * posted write is served. The host copies the request once and checks it as
 * INSTAR_HC_BLOCK_WRITE. */
struct instar_write_slot {
  /* Written by the host before boot. */
  uint32_t available; /* 1: the host serves the slot; 0: use INSTAR_HC_BLOCK_WRITE */
  uint32_t reserved;
  /* IN */
  uint32_t posted;    /* request number, one more than the last (wraps) */
  uint32_t reserved_in;
  struct instar_hc_block_read request; /* a write's fields; its status is the answer */
  /* OUT */
  uint32_t claimed;   /* the request the host took last */
  uint32_t served;    /* the request whose answer is in request.status */
};

struct instar_hc_device_size {
  /* IN */
  uint32_t device;
  uint32_t reserved;
  /* OUT */
  uint64_t size;
  int32_t status;
  uint32_t reserved_out;
  uint64_t allocated; /* bytes the file occupies on disk (st_blocks * 512) */
};

/* Data or hole at an offset of a device, from the host's filesystem
 * (SEEK_DATA / SEEK_HOLE): file metadata, not image content. */
struct instar_hc_block_extent {
  /* IN */
  uint32_t device;
  uint32_t reserved;
  uint64_t offset;
  /* OUT */
  uint64_t length; /* bytes from offset with the same kind, at least 1 */
  uint32_t data;   /* 1 data, 0 hole */
  int32_t status;
};

struct instar_hc_result {
  /* IN */
  uint64_t record_gpa;
  uint64_t length;
  /* OUT */
  int32_t status;
  uint32_t reserved_out;
};

struct instar_hc_log {
  /* IN */
  uint64_t text_gpa;
  uint64_t length; /* at most INSTAR_LOG_MAX */
};
#define INSTAR_LOG_MAX 256u

struct instar_hc_exit {
  /* IN */
  uint32_t status;
  uint32_t reserved;
};

struct instar_hc_exception {
  /* IN */
  uint64_t vector;
  uint64_t rip;
  uint64_t error_code;
};

/* Zeroes a range of a writable device: a hole when `unmap` is 1 (and the
 * filesystem can), allocated zeroes otherwise. */
struct instar_hc_block_zero {
  /* IN */
  uint32_t device;
  uint32_t unmap;
  uint64_t offset;
  uint64_t length;
  /* OUT */
  int32_t status;
  uint32_t reserved_out;
};

#endif /* INSTAR_VMM_ABI_INSTAR_ABI_H */
