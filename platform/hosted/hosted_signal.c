/*
 * Signals as CPU exceptions: a fault in the guest becomes the same report
 * as on kvm (with symbols from the image file), and a system call outside
 * the seccomp allowlist becomes a clear message.  Handlers run on their own
 * stack and use only allowed system calls (write, exit_group).
 */
#include <stdio.h>
#include <string.h>

#include "hosted.h"
#include "hosted_syscall.h"

extern void hosted_sigreturn(void);

static char altstack[64 * 1024] __attribute__((aligned(16)));
static struct ingot_fault fault;

static void write_line(void *ctx, const char *line)
{
	(void)ctx;
	syscall3(SYS_write, 2, line, strlen(line));
	syscall3(SYS_write, 2, "\n", 1);
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
	fault_report(&fault, &hosted.syms, "ingot: ", write_line, NULL);
	syscall3(SYS_exit_group, INGOT_EXIT_ABORT, 0, 0);
}

static const char *syscall_name(int nr)
{
	static const struct {
		int nr;
		const char *name;
	} names[] = {
	    {0, "read"},	{2, "open"},	  {3, "close"},	   {9, "mmap"},
	    {10, "mprotect"},	{11, "munmap"},	  {12, "brk"},	   {16, "ioctl"},
	    {41, "socket"},	{42, "connect"},  {49, "bind"},	   {56, "clone"},
	    {57, "fork"},	{59, "execve"},	  {62, "kill"},	   {87, "unlink"},
	    {101, "ptrace"},	{257, "openat"},  {322, "execveat"},
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
	char line[200];
	uint64_t off = 0;
	const char *fn = elfsym_lookup(&hosted.syms, r[REG_RIP], &off);

	(void)sig;
	if (fn)
		snprintf(line, sizeof line,
			 "ingot: guest made a forbidden system call %d (%s) "
			 "at 0x%lx <%s+0x%lx>",
			 si->u.sys.syscall, syscall_name(si->u.sys.syscall),
			 (unsigned long)r[REG_RIP], fn, (unsigned long)off);
	else
		snprintf(line, sizeof line,
			 "ingot: guest made a forbidden system call %d (%s) "
			 "at 0x%lx",
			 si->u.sys.syscall, syscall_name(si->u.sys.syscall),
			 (unsigned long)r[REG_RIP]);
	write_line(NULL, line);
	write_line(NULL, "ingot: guest stopped");
	syscall3(SYS_exit_group, INGOT_EXIT_STOPPED, 0, 0);
}

/*
 * The operator's requests (abi.h, INGOT_READY_STOP and _REPORT): SIGTERM or
 * SIGINT asks the guest to stop, a second one ends it at once; SIGUSR1 asks
 * for a report.  ingot_poll() hands them to the guest; like ingot-kvm, it
 * keeps them blocked only between its check and its sleep, which unblocks
 * them atomically.
 */
static volatile int stop_requested, stop_delivered, report_requested;

static void on_request(int sig, void *info, void *context)
{
	(void)info;
	(void)context;
	if (sig == SIGUSR1) {
		report_requested = 1;
		return;
	}
	if (__atomic_exchange_n(&stop_requested, 1, __ATOMIC_SEQ_CST))
		syscall3(SYS_exit_group, 128 + sig, 0, 0);
}

uint64_t hosted_requests_take(void)
{
	uint64_t r = 0;
	if (stop_requested &&
	    !__atomic_exchange_n(&stop_delivered, 1, __ATOMIC_SEQ_CST))
		r |= INGOT_READY_STOP;
	if (__atomic_exchange_n(&report_requested, 0, __ATOMIC_SEQ_CST))
		r |= INGOT_READY_REPORT;
	return r;
}

static void handle(int sig, void (*fn)(int, void *, void *))
{
	struct kernel_sigaction sa = {
	    .handler = fn,
	    .flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
	    .restorer = hosted_sigreturn,
	    .mask = ~0ULL, /* nothing interrupts a report */
	};
	if (fn == on_request)
		sa.flags |= SA_RESTART;
	syscall4(SYS_rt_sigaction, sig, &sa, 0, 8);
}

void hosted_signals_init(void)
{
	struct kernel_stack ss = {altstack, 0, sizeof altstack};
	syscall3(SYS_sigaltstack, &ss, 0, 0);
	handle(SIGSEGV, on_fault);
	handle(SIGBUS, on_fault);
	handle(SIGILL, on_fault);
	handle(SIGFPE, on_fault);
	handle(SIGTRAP, on_fault);
	handle(SIGSYS, on_sigsys);
	handle(SIGTERM, on_request);
	handle(SIGINT, on_request);
	handle(SIGUSR1, on_request);
}
