/*
 * CPU exception entry points.  Each pushes a uniform frame (a zero where the
 * CPU pushes no error code, then the vector) and joins kvm_trap, which
 * saves the general registers and reports.  The IDT sends every vector to
 * IST1, a stack of its own, so even a boot-stack overflow gets reported.
 */
	.section .text.kvm_trap, "ax"

	.macro trap_noerr vec
	.globl kvm_trap_\vec
kvm_trap_\vec:
	pushq $0
	pushq $\vec
	jmp kvm_trap
	.endm

	.macro trap_err vec
	.globl kvm_trap_\vec
kvm_trap_\vec:
	pushq $\vec
	jmp kvm_trap
	.endm

	trap_noerr 0
	trap_noerr 1
	trap_noerr 2
	trap_noerr 3
	trap_noerr 4
	trap_noerr 5
	trap_noerr 6
	trap_noerr 7
	trap_err 8
	trap_noerr 9
	trap_err 10
	trap_err 11
	trap_err 12
	trap_err 13
	trap_err 14
	trap_noerr 15
	trap_noerr 16
	trap_err 17
	trap_noerr 18
	trap_noerr 19
	trap_noerr 20
	trap_err 21
	trap_noerr 22
	trap_noerr 23
	trap_noerr 24
	trap_noerr 25
	trap_noerr 26
	trap_noerr 27
	trap_noerr 28
	trap_err 29
	trap_err 30
	trap_noerr 31

	.type kvm_trap, @function
kvm_trap:
	/* Reverse order of struct kvm_trap_frame. */
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	xorl %ebp, %ebp
	andq $-16, %rsp
	cld
	call kvm_exception
	ud2
	.size kvm_trap, . - kvm_trap

	/* Where a syscall lands on hosts that run it (abi_kvm.h): reported
	 * as the invalid instruction it is in ingot. */
	.globl kvm_syscall_entry
	.type kvm_syscall_entry, @function
kvm_syscall_entry:
	ud2
	.size kvm_syscall_entry, . - kvm_syscall_entry

	/* The entry points in vector order, for the IDT the monitor builds
	 * (the INGOT_NOTE_KVM_TRAPS note in start.S points here). */
	.section .rodata.kvm_trap_stubs, "a"
	.globl kvm_trap_stubs
	.balign 8
kvm_trap_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad kvm_trap_\v
	.endr
	.quad kvm_syscall_entry

	.section .note.GNU-stack, "", @progbits
