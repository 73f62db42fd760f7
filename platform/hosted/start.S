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

	/* Signal handlers return through rt_sigreturn. */
	.section .text.hosted_sigreturn, "ax"
	.globl hosted_sigreturn
	.type hosted_sigreturn, @function
hosted_sigreturn:
	movl $15, %eax		/* __NR_rt_sigreturn */
	syscall
	ud2
	.size hosted_sigreturn, . - hosted_sigreturn

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

	.section .note.GNU-stack, "", @progbits
