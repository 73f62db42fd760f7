/*
 * Signals as CPU exceptions: a fault in the guest becomes the same report
 * as on kvm (with symbols from the image file), and a system call outside
 * the seccomp allowlist becomes a clear message.  Handlers run on their own
 * stack and use only allowed system calls (write, exit_group).
 */
#include "../../host/exit.h"
#include "../../host/fault.h"
#include "../../host/msg.h"
#include "../../host/signal.h"
#include "hosted.h"

static char altstack[64 * 1024] __attribute__((aligned(16)));
static struct ingot_fault fault;

static void write_line(void *ctx, const char *line)
{
	(void)ctx;
	host_msg("%s", line);
}

/* The x86 exception behind a signal, so reports read alike on all targets. */
static uint64_t vector_of(const struct kernel_siginfo *si, int sig)
{
	switch (sig) {
	case SIGSEGV:
		return 14;
	case SIGILL:
		return 6;
	case SIGFPE:
		return 0;
	case SIGTRAP:
		return 3;
	default:
		return si->code == BUS_ADRALN ? 17 : 13;
	}
}

static void backtrace(uint64_t rbp)
{
	uint64_t n = 0;
	while (n < INGOT_FAULT_BACKTRACE_MAX && rbp && rbp % 8 == 0 &&
	       hosted_readable(rbp)) {
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

static void on_fault(int sig, void *info, void *context)
{
	const struct kernel_siginfo *si = info;
	const uint64_t *r = ((const struct kernel_ucontext *)context)->gregs;

	fault = (struct ingot_fault){
	    .vector = vector_of(si, sig),
	    .error_code = sig == SIGSEGV ? r[REG_ERR] : 0,
	    .address = sig == SIGSEGV ? (uintptr_t)si->u.addr : 0,
	    .rip = r[REG_RIP],
	    .rsp = r[REG_RSP],
	    .rbp = r[REG_RBP],
	    .rflags = r[REG_EFL],
	    .rax = r[REG_RAX],
	    .rbx = r[REG_RBX],
	    .rcx = r[REG_RCX],
	    .rdx = r[REG_RDX],
	    .rsi = r[REG_RSI],
	    .rdi = r[REG_RDI],
	    .r8 = r[REG_R8],
	    .r9 = r[REG_R9],
	    .r10 = r[REG_R10],
	    .r11 = r[REG_R11],
	    .r12 = r[REG_R12],
	    .r13 = r[REG_R13],
	    .r14 = r[REG_R14],
	    .r15 = r[REG_R15],
	};
	if (r[REG_RSP] % 8 == 0 && hosted_readable(r[REG_RSP]))
		fault.stack_word = *(const uint64_t *)r[REG_RSP];
	backtrace(r[REG_RBP]);
	fault_report(&fault, &hosted.syms, "", write_line, NULL);
	host_exit(INGOT_EXIT_ABORT);
}

static const char *syscall_name(int nr)
{
	static const struct {
		int nr;
		const char *name;
	} names[] = {
	    {0, "read"},       {2, "open"},      {3, "close"},
	    {9, "mmap"},       {10, "mprotect"}, {11, "munmap"},
	    {12, "brk"},       {16, "ioctl"},    {41, "socket"},
	    {42, "connect"},   {49, "bind"},     {56, "clone"},
	    {57, "fork"},      {59, "execve"},   {62, "kill"},
	    {87, "unlink"},    {101, "ptrace"},  {257, "openat"},
	    {322, "execveat"},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].nr == nr)
			return names[i].name;
	return "?";
}

static void on_sigsys(int sig, void *info, void *context)
{
	const struct kernel_siginfo *si = info;
	const uint64_t *r = ((const struct kernel_ucontext *)context)->gregs;
	uint64_t off = 0;
	const char *fn = elfsym_lookup(&hosted.syms, r[REG_RIP], &off);

	(void)sig;
	if (fn)
		host_stop("guest made a forbidden system call %d (%s) at 0x%lx "
			  "<%s+0x%lx>",
			  si->u.sys.syscall, syscall_name(si->u.sys.syscall),
			  (unsigned long)r[REG_RIP], fn, (unsigned long)off);
	host_stop("guest made a forbidden system call %d (%s) at 0x%lx",
		  si->u.sys.syscall, syscall_name(si->u.sys.syscall),
		  (unsigned long)r[REG_RIP]);
}

void hosted_signals_init(void)
{
	struct kernel_stack ss = {altstack, 0, sizeof altstack};
	syscall3(SYS_sigaltstack, &ss, 0, 0);
	host_signal(SIGSEGV, on_fault);
	host_signal(SIGBUS, on_fault);
	host_signal(SIGILL, on_fault);
	host_signal(SIGFPE, on_fault);
	host_signal(SIGTRAP, on_fault);
	host_signal(SIGSYS, on_sigsys);
}
