/*
 * Fiber context switch.  Only the callee-saved registers and the stack
 * pointer are state: guests use no FPU or SSE.
 *
 * void sched_switch(uint64_t *save_rsp, uint64_t load_rsp)
 */
	.section .text.sched_switch, "ax"
	.globl sched_switch
	.type sched_switch, @function
sched_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size sched_switch, . - sched_switch

/* A new fiber's first return lands here: the outermost frame (rbp = 0
 * ends backtraces), with the SysV stack alignment for the call. */
	.section .text.sched_start, "ax"
	.globl sched_start
	.type sched_start, @function
sched_start:
	xorl %ebp, %ebp
	andq $-16, %rsp
	call sched_fiber_main
	ud2
	.size sched_start, . - sched_start

	.section .note.GNU-stack, "", @progbits
