/*
 * Interrupt entry: one 16-byte stub per CPU exception, which pushes the
 * vector (and a zero where the CPU pushes no error code) and saves the
 * registers as struct virtio_frame for virtio_trap, which does not return;
 * the timer's interrupt, which only wakes the CPU from hlt; and the stack
 * switch of start of day.
 */
#include "virtio_asm.h"

	.section .text.virtio_trap_stubs, "ax"
	.balign 16 * VIRTIO_VECTORS	/* no carry past 16 bits (set_gates) */
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

/* A virtio device's interrupt: its bit in virtio_irq_pending, so that the
 * poll loop acknowledges exactly the devices that raised one, then the
 * timer's end-of-interrupt path.  One 16-byte stub per device. */
	.balign 16 * VIRTIO_DEVICE_VECTORS	/* as the trap stubs */
	.globl virtio_device_isrs
virtio_device_isrs:
	.set dev, 0
	.rept VIRTIO_DEVICE_VECTORS
	.balign 16
	pushq %rax
	movl $dev, %eax
	jmp virtio_device_isr
	.set dev, dev + 1
	.endr

virtio_device_isr:
	lock btsl %eax, virtio_irq_pending(%rip)
	popq %rax
	jmp virtio_timer_isr

/*
 * The sleep call: code at CPL 3 may not halt, and on this nested host
 * neither int n nor syscall reaches CPL 0, but an exception does.  So
 * virtio_sleep_call(v) is a ud2 at a known address, whose #UD handler
 * runs clock_halt(v) at CPL 0 and returns past it; a #UD anywhere else
 * is a fault as any other.  Every register is kept.
 */
	.section .text.virtio_sleep_call, "ax"
	.globl virtio_sleep_call
	.type virtio_sleep_call, @function
virtio_sleep_call:
virtio_sleep_site:
	ud2
	ret
	.size virtio_sleep_call, . - virtio_sleep_call

	.globl virtio_ud_isr
virtio_ud_isr:
	pushq %rax
	leaq virtio_sleep_site(%rip), %rax
	cmpq %rax, 8(%rsp)
	popq %rax
	jne virtio_trap_stubs + 16 * 6
	addq $2, (%rsp)			/* past the ud2 */
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	call clock_halt
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	iretq

/* virtio_enter_user(): returns to its caller at CPL 3, on the same
 * stack, with interrupts off and no I/O privilege (the TSS's bitmap says
 * which ports stay reachable). */
	.section .text.virtio_enter_user, "ax"
	.globl virtio_enter_user
	.type virtio_enter_user, @function
virtio_enter_user:
	popq %rax			/* the return address */
	movq %rsp, %rcx
	pushq $VIRTIO_SEL_UDATA
	pushq %rcx
	pushfq
	andq $~0x3200, (%rsp)		/* IOPL 0, IF 0 */
	pushq $VIRTIO_SEL_UCODE
	pushq %rax
	iretq
	.size virtio_enter_user, . - virtio_enter_user

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
