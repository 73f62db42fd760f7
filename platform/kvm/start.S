/*
 * Entry from ingot-kvm: long mode at CPL 3, paging on, interrupts off,
 * rsp = top of the boot stack, rdi = struct ingot_kvm_boot.
 */
#include <ingot/abi_kvm.h>

	.section .text._start, "ax"
	.globl _start
	.type _start, @function
_start:
	xorl %ebp, %ebp		/* the outermost frame, for backtraces */
	andq $-16, %rsp
	call kvm_start
	ud2
	.size _start, . - _start

	/* Identifies the file as an ingot kvm image to the monitor. */
	.section .note.ingot, "a"
	.balign 4
	.long 6			/* sizeof "ingot" */
	.long 8			/* sizeof struct ingot_note_abi */
	.long INGOT_NOTE_ABI
	.asciz "ingot"
	.balign 4
	.long INGOT_ABI_VERSION
	.long INGOT_TARGET_KVM

	.section .note.GNU-stack, "", @progbits
