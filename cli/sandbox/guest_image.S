/* guest_image.S: the guest ELF, embedded so that one installed file is all a user needs. */
    .section .rodata
    .global instar_guest_elf_start
    .global instar_guest_elf_end
    .p2align 4
instar_guest_elf_start:
    .incbin INSTAR_GUEST_ELF_PATH
instar_guest_elf_end:
    .section .note.GNU-stack, "", @progbits
