/*
 * Interrupt entry: one 16-byte stub per CPU exception, which pushes the
 * vector (and a zero where the CPU pushes no error code) and saves the
 * registers as struct virtio_frame for virtio_trap, which does not return;
 * the timer's interrupt, which only wakes the CPU from hlt; and the stack
 * switch of start of day.
 */
#include "virtio_asm.h"

	.section .text.virtio_trap_stubs, "ax"
	.balign 16
	.globl virtio_trap_stubs
virtio_trap_stubs:
	.set vec, 0
	.rept VIRTIO_VECTORS
	.balign 16
	.if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
	.else
	pushq $0
	.endif
	pushq $vec
	jmp virtio_trap_common
	.set vec, vec + 1
	.endr

virtio_trap_common:
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
	call virtio_trap
	ud2

/* The timer and spurious interrupts: hlt has returned, which is all they
 * are for.  The timer's needs an end-of-interrupt (x2APIC: an MSR write;
 * xAPIC: the register virtio_apic_eoi points at). */
	.section .text.virtio_timer_isr, "ax"
	.globl virtio_timer_isr
virtio_timer_isr:
	pushq %rax
	pushq %rcx
	pushq %rdx
	movq virtio_apic_eoi(%rip), %rax
	testq %rax, %rax
	jz 1f
	movl $0, (%rax)
	jmp 2f
1:	movl $0x80b, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
2:	popq %rdx
	popq %rcx
	popq %rax
	iretq

	.globl virtio_spurious_isr
virtio_spurious_isr:
	iretq

/* virtio_switch_stack(top, fn): calls fn on the stack ending at top. */
	.section .text.virtio_switch_stack, "ax"
	.globl virtio_switch_stack
	.type virtio_switch_stack, @function
virtio_switch_stack:
	movq %rdi, %rsp
	xorl %ebp, %ebp
	call *%rsi
	ud2
	.size virtio_switch_stack, . - virtio_switch_stack

	.section .note.GNU-stack, "", @progbits
