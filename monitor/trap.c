/*
 * CPU exceptions in the guest.  No image code runs at CPL 0 (abi_kvm.h):
 * the IDT sends every vector to a stub of the monitor's, one `out` to the
 * trap port, and the monitor gathers the rest itself (registers, the frame
 * the CPU pushed on the exception stack, a backtrace read from guest
 * memory) and reports it with symbol names.  The guest cannot write the
 * stubs, the IDT or the exception stack, so what they say can be trusted;
 * what the guest's own registers and stack say is only printed.
 */
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "monitor.h"

#define PAGE 4096UL

void trap_write_stubs(struct guest *g)
{
	/* out %al, $INGOT_KVM_TRAP_PORT; ud2; then int3 padding.  It changes
	 * no register, and the monitor never lets the guest run on. */
	static const unsigned char stub[INGOT_KVM_STUB_SIZE] = {
	    0xe6, INGOT_KVM_TRAP_PORT, 0x0f, 0x0b, 0xcc, 0xcc, 0xcc, 0xcc};
	unsigned char *page = g->mem + INGOT_KVM_STUBS_BASE;

	_Static_assert(INGOT_KVM_TRAP_PORT < 256, "an immediate port");
	_Static_assert((INGOT_KVM_STUB_SYSCALL + 1) * INGOT_KVM_STUB_SIZE <=
			   PAGE,
		       "stubs in one page");
	memset(page, 0xcc, PAGE);
	for (unsigned v = 0; v <= INGOT_KVM_STUB_SYSCALL; v++)
		memcpy(page + v * INGOT_KVM_STUB_SIZE, stub, sizeof stub);
}

static bool has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 ||
	       v == 29 || v == 30;
}

/* The word at guest-virtual va, if the guest itself could read it. */
static bool guest_word(struct guest *g, uint64_t va, uint64_t *word)
{
	if (va % 8 || !paging_user_readable(g, va))
		return false;
	const uint64_t *p = vm_guest_ptr(g, va, 8, false);
	if (!p)
		return false;
	*word = *p;
	return true;
}

/* Return addresses along the frame-pointer chain, which the guest may have
 * corrupted: each frame must be readable and above the last. */
static void backtrace(struct guest *g, struct ingot_fault *f)
{
	uint64_t rbp = f->rbp, next, ret;

	while (f->nframes < INGOT_FAULT_BACKTRACE_MAX && rbp &&
	       guest_word(g, rbp, &next) && guest_word(g, rbp + 8, &ret) &&
	       ret) {
		f->backtrace[f->nframes++] = ret;
		if (next <= rbp)
			break;
		rbp = next;
	}
}

/* The region a faulting address names, if it is the monitor's. */
static const char *monitor_region(struct guest *g, uint64_t va)
{
	if (va < g->img.offset || va - g->img.offset >= g->mem_size)
		return NULL;
	uint64_t pa = va - g->img.offset;
	if (pa >= INGOT_KVM_BOOT_BASE &&
	    pa < INGOT_KVM_BOOT_BASE + INGOT_KVM_BOOT_SIZE)
		return "its boot information";
	if (pa >= INGOT_KVM_GDT_BASE && pa < INGOT_KVM_GDT_BASE + PAGE)
		return "its descriptor tables";
	if (pa >= INGOT_KVM_STUBS_BASE && pa < INGOT_KVM_STUBS_BASE + PAGE)
		return "the monitor's exception stubs";
	if (pa >= g->tables_start && pa < g->tables_end)
		return "its page tables";
	if (pa >= g->ist_top - PAGE && pa < g->ist_top)
		return "its exception stack";
	return NULL;
}

/* The privileged instruction at guest-virtual rip, if it is one that
 * reconfigures the CPU (it faults at CPL 3). */
static const char *privileged(struct guest *g, uint64_t rip)
{
	static const struct {
		unsigned char op[2];
		const char *name;
	} ops[] = {
	    {{0x0f, 0x00}, "lldt, ltr"},
	    {{0x0f, 0x01}, "lgdt, lidt, lmsw, invlpg"},
	    {{0x0f, 0x06}, "clts"},
	    {{0x0f, 0x09}, "wbinvd"},
	    {{0x0f, 0x22}, "mov to a control register"},
	    {{0x0f, 0x23}, "mov to a debug register"},
	    {{0x0f, 0x30}, "wrmsr"},
	    {{0x0f, 0x32}, "rdmsr"},
	};
	const unsigned char *p = vm_guest_ptr(g, rip, 3, false);
	if (!p)
		return NULL;
	if (p[0] >= 0x40 && p[0] <= 0x4f) /* a REX prefix */
		p++;
	if (p[0] == 0xf4)
		return "hlt";
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (p[0] == ops[i].op[0] && p[1] == ops[i].op[1])
			return ops[i].name;
	return NULL;
}

static void print_line(void *ctx, const char *line)
{
	(void)ctx;
	mon_msg("%s", line);
}

void trap_report(struct guest *g)
{
	struct kvm_regs r;
	struct kvm_sregs sr;
	uint64_t stubs = INGOT_KVM_STUBS_BASE + g->img.offset;

	if (ioctl(g->vcpu_fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(g->vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		mon_stop(g,
			 "cannot read the registers of a faulting guest: %m");
	/* Only the stubs, at CPL 0, may use the trap port. */
	if ((sr.cs.selector & 3) != 0 || r.rip < stubs ||
	    r.rip - stubs > INGOT_KVM_STUB_SYSCALL * INGOT_KVM_STUB_SIZE + 2)
		mon_stop(g, "guest used I/O port 0x%x from 0x%llx",
			 INGOT_KVM_TRAP_PORT, (unsigned long long)r.rip);
	unsigned v = (r.rip - stubs) / INGOT_KVM_STUB_SIZE;

	struct ingot_fault f = {
	    .rax = r.rax,
	    .rbx = r.rbx,
	    .rcx = r.rcx,
	    .rdx = r.rdx,
	    .rsi = r.rsi,
	    .rdi = r.rdi,
	    .rbp = r.rbp,
	    .r8 = r.r8,
	    .r9 = r.r9,
	    .r10 = r.r10,
	    .r11 = r.r11,
	    .r12 = r.r12,
	    .r13 = r.r13,
	    .r14 = r.r14,
	    .r15 = r.r15,
	};
	/* kvm-pvm runs syscall anyway and fetches the syscall stub at CPL 3,
	 * which faults on the supervisor page: that is the syscall too. */
	uint64_t syscall_stub =
	    stubs + INGOT_KVM_STUB_SYSCALL * INGOT_KVM_STUB_SIZE;
	if (v == 14 && sr.cr2 == syscall_stub &&
	    ((const uint64_t *)(g->mem + g->ist_top))[-5] == syscall_stub)
		v = INGOT_KVM_STUB_SYSCALL;
	if (v == INGOT_KVM_STUB_SYSCALL) {
		/* Where a host runs syscall anyway: rcx holds the address
		 * after it, r11 the flags; reported as the #UD it is here. */
		f.vector = 6;
		f.rip = r.rcx - 2;
		f.rflags = r.r11;
		f.rsp = r.rsp;
	} else {
		/* The frame the CPU pushed at the top of the exception
		 * stack: [error code], rip, cs, rflags, rsp, ss. */
		const uint64_t *top = (const uint64_t *)(g->mem + g->ist_top);
		f.vector = v;
		f.rip = top[-5];
		f.rflags = top[-3];
		f.rsp = top[-2];
		f.error_code = has_error_code(v) ? top[-6] : 0;
		f.address = v == 14 ? sr.cr2 : 0;
	}
	guest_word(g, f.rsp, &f.stack_word);
	backtrace(g, &f);
	fault_report(&f, &g->img.syms, "", print_line, NULL);

	/* What a hostile image tries is refused (INGOT_EXIT_STOPPED); a bug
	 * is a fault (INGOT_EXIT_ABORT). */
	if (v == 13 && (f.error_code & 2))
		mon_stop(g, "guest raised a software interrupt: refused, no "
			    "gate is open to it");
	const char *insn = v == 13 ? privileged(g, f.rip) : NULL;
	if (insn)
		mon_stop(g,
			 "guest executed a privileged instruction (%s): "
			 "refused",
			 insn);
	const char *region = monitor_region(g, f.address);
	if (v == 14 && region)
		mon_stop(g,
			 "guest %s %s at 0x%llx: refused, it is the "
			 "monitor's",
			 (f.error_code & 0x10) ? "executed"
			 : (f.error_code & 2)  ? "wrote to"
					       : "read",
			 region, (unsigned long long)f.address);
	mon_exit(INGOT_EXIT_ABORT);
}
