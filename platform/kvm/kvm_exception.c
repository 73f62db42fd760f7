/*
 * CPU exceptions in the guest.  There are no interrupts; an exception is
 * always a bug or an attack, so the handler gathers what the operator needs
 * (vector, error code, faulting address, registers, a backtrace) and hands
 * it to the monitor, which prints it with symbol names and ends the guest.
 * It runs at CPL 0 through the IDT the monitor built (abi_kvm.h).
 */
#include <stddef.h>
#include <string.h>

#include "kvm.h"

struct kvm_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx,
	    rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

extern const char kvm_syscall_entry[];

static struct ingot_fault fault;
static bool in_exception;

/* Return addresses along the frame-pointer chain, reading only frames that
 * are mapped, so that a corrupt chain cannot fault again. */
static void backtrace(uint64_t rbp)
{
	uint64_t n = 0;

	while (n < INGOT_FAULT_BACKTRACE_MAX && rbp && rbp % 8 == 0 &&
	       kvm_page_readable(rbp) && kvm_page_readable(rbp + 15)) {
		const uint64_t *frame = (const uint64_t *)rbp;
		if (!frame[1])
			break;
		fault.backtrace[n++] = frame[1];
		if (frame[0] <= rbp)
			break; /* callers' frames are above */
		rbp = frame[0];
	}
	fault.nframes = n;
}

_Noreturn void kvm_exception(const struct kvm_trap_frame *f);

_Noreturn void kvm_exception(const struct kvm_trap_frame *f)
{
	static const char nested[] = "CPU exception inside the exception "
				     "handler";
	uint64_t cr2;

	if (in_exception)
		ingot_abort(nested, sizeof nested - 1);
	in_exception = true;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));

	fault = (struct ingot_fault){
	    .vector = f->vector,
	    .error_code = f->error_code,
	    .address = f->vector == 14 ? cr2 : 0,
	    .rip = f->rip,
	    .rsp = f->rsp,
	    .rbp = f->rbp,
	    .rflags = f->rflags,
	    .rax = f->rax,
	    .rbx = f->rbx,
	    .rcx = f->rcx,
	    .rdx = f->rdx,
	    .rsi = f->rsi,
	    .rdi = f->rdi,
	    .r8 = f->r8,
	    .r9 = f->r9,
	    .r10 = f->r10,
	    .r11 = f->r11,
	    .r12 = f->r12,
	    .r13 = f->r13,
	    .r14 = f->r14,
	    .r15 = f->r15,
	};
	/* A syscall the host ran anyway: rcx holds the address after it. */
	if (f->rip == (uintptr_t)kvm_syscall_entry) {
		fault.rip = f->rcx - 2;
		fault.stack_word = 0;
	}
	if (f->rsp % 8 == 0 && kvm_page_readable(f->rsp) &&
	    kvm_page_readable(f->rsp + 7))
		fault.stack_word = *(const uint64_t *)f->rsp;
	backtrace(f->rbp);
	kvm_hypercall(INGOT_KVM_HC_FAULT, &fault);
	for (;;)
		__asm__ volatile("ud2");
}
