/* boot.S: the guest's entry, entered in 64-bit mode by the monitor; and the
 * exception stubs that report vector and RIP to the host. */
    .section .text.boot, "ax"
    .global _start
_start:
    lea guest_stack_top(%rip), %rsp
    xor %ebp, %ebp
    call guest_setup_idt
    call guest_main
1:  hlt
    jmp 1b

/* Exceptions: push a dummy error code where the CPU pushes none, then the vector. */
.macro ISR_NOERR n
isr\n:
    pushq $0
    pushq $\n
    jmp isr_common
.endm
.macro ISR_ERR n
isr\n:
    pushq $\n
    jmp isr_common
.endm

    .text
ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR 8
ISR_NOERR 9
ISR_ERR 10
ISR_ERR 11
ISR_ERR 12
ISR_ERR 14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR 17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR 21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR 29
ISR_ERR 30
ISR_NOERR 31

/* #GP. The guest runs in ring 3, where `out` faults: an `out %eax,(%dx)` (0xef)
 * from ring 3 is a hypercall, performed here, and the guest resumes after it.
 * Any other #GP is reported like every other exception. */
isr13:
    pushq %rcx
    movq 16(%rsp), %rcx        /* RIP of the faulting instruction */
    testb $3, 24(%rsp)         /* the interrupted code's CS: ring 3? */
    jz 1f
    cmpb $0xef, (%rcx)
    jne 1f
    outl %eax, %dx
    incq %rcx
    movq %rcx, 16(%rsp)
    popq %rcx
    addq $8, %rsp              /* the error code */
    iretq
1:  popq %rcx
    pushq $13
    jmp isr_common

isr_common:
    cld                   /* the C ABI wants it clear; memmove may have set it */
    mov (%rsp), %rdi      /* vector */
    mov 8(%rsp), %rdx     /* error code */
    mov 16(%rsp), %rsi    /* RIP of the faulting instruction */
    and $-16, %rsp
    call guest_exception  /* does not return */
2:  hlt
    jmp 2b

    .section .rodata
    .global guest_isr_table
    .p2align 3
guest_isr_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad isr\n
    .endr

    .bss
    .p2align 4
guest_stack:
    .skip 262144
    .global guest_stack_top
guest_stack_top:
