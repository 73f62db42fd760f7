/*
 * Entry from the Linux kernel: rsp points at argc, argv, envp, auxv.
 */
#include <ingot/abi_kvm.h>

	.section .text._start, "ax"
	.globl _start
	.type _start, @function
_start:
	xorl %ebp, %ebp		/* the outermost frame, for backtraces */
	movq %rsp, %rdi
	andq $-16, %rsp
	call hosted_start
	ud2
	.size _start, . - _start

	/* Identifies the file as an ingot image for the hosted target. */
	.section .note.ingot, "a"
	.balign 4
	.long 6
	.long 8
	.long INGOT_NOTE_ABI
	.asciz "ingot"
	.balign 4
	.long INGOT_ABI_VERSION
	.long INGOT_TARGET_HOSTED
	/* The end of the image's read-only data (hosted_mem.c). */
	.globl hosted_note_end
hosted_note_end:

	.section .note.GNU-stack, "", @progbits
