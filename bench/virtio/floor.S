/*
 * QEMU's floor: a PVH guest whose first instruction ends QEMU through
 * isa-debug-exit (iobase 0xf4).  It writes 1, which QEMU turns into exit
 * status 3, the status of a virtio image that exits 0; bench/virtio/boot
 * launches it with the same command line as hello.virtio, so that the
 * difference is the guest's own start.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .text, "ax"
	.code32
	.globl floor_start
floor_start:
	movb $1, %al
	outb %al, $0xf4
1:	hlt
	jmp 1b

	/* QEMU's -kernel boots an ELF by PVH when it has this note; its
	 * value is the physical address of the 32-bit entry. */
	.section .note.xen, "a", @note
	.balign 4
	.long 4
	.long 4
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long floor_start

	.section .note.GNU-stack, "", @progbits
