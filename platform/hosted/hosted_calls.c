/* The ABI calls on the hosted target: each is at most a system call or two,
 * all of them on the seccomp allowlist. */
#include <errno.h>

#include "hosted.h"
#include "hosted_syscall.h"

/* Pages the guest made inaccessible (guard pages), so that a backtrace
 * never reads one. */
#define NOACCESS_MAX 512
static struct {
	uintptr_t start, end;
} noaccess[NOACCESS_MAX];
static unsigned nnoaccess;
static bool noaccess_overflow;

const struct ingot_boot_info *ingot_boot_info(void) { return &hosted.info; }

int ingot_console_write(const char *buf, size_t len)
{
	while (len) {
		long n = syscall3(SYS_write, 1, buf, len);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			return 0; /* the reader went away: drop, as a console does */
		buf += n;
		len -= n;
	}
	return 0;
}

uint64_t hosted_clock(int clock)
{
	struct kernel_timespec ts;
	syscall3(SYS_clock_gettime, clock, &ts, 0);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t ingot_clock_monotonic(void)
{
	return hosted_clock(CLOCK_MONOTONIC) - hosted.mono_at_boot;
}

uint64_t ingot_clock_wall(void) { return hosted_clock(CLOCK_REALTIME); }

int ingot_poll(uint64_t deadline_ns, uint64_t *ready_set, uint64_t *now_ns)
{
	struct kernel_pollfd fds[INGOT_DEVICES_MAX];
	uint64_t now = ingot_clock_monotonic(), ready, unblocked = 0;
	const uint64_t requests = SIGMASK(SIGTERM) | SIGMASK(SIGINT) |
				  SIGMASK(SIGUSR1);
	bool blocked = false;
	for (;;) {
		ready = hosted_net_service() | hosted_requests_take();
		if (ready || now >= deadline_ns)
			break;
		if (!blocked) { /* then check again before sleeping */
			syscall4(SYS_rt_sigprocmask, SIG_BLOCK, &requests,
				 &unblocked, 8);
			blocked = true;
			continue;
		}
		uint64_t wait = deadline_ns - now;
		struct kernel_timespec ts = {wait / 1000000000ULL,
					     wait % 1000000000ULL};
		syscall6(SYS_ppoll, (long)fds, hosted_net_pollfds(fds),
			 (long)(deadline_ns == UINT64_MAX ? NULL : &ts),
			 (long)&unblocked, 8, 0);
		now = ingot_clock_monotonic();
	}
	if (blocked)
		syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &unblocked, 0, 8);
	if (ready_set)
		*ready_set = ready;
	if (now_ns)
		*now_ns = now;
	return 0;
}

static void note_noaccess(uintptr_t a, size_t len, bool none)
{
	/* Remove the range, then add it back if it is now inaccessible. */
	for (unsigned i = 0; i < nnoaccess; i++)
		if (noaccess[i].start < a + len && a < noaccess[i].end) {
			noaccess[i] = noaccess[--nnoaccess];
			i--;
		}
	if (!none)
		return;
	if (nnoaccess == NOACCESS_MAX) {
		noaccess_overflow = true;
		return;
	}
	noaccess[nnoaccess].start = a;
	noaccess[nnoaccess++].end = a + len;
}

int ingot_mem_protect(void *addr, size_t len, enum ingot_prot prot)
{
	const struct ingot_boot_info *bi = &hosted.info;
	uintptr_t a = (uintptr_t)addr;
	int p;

	if (hosted.sealed)
		return -EPERM;
	switch (prot) {
	case INGOT_PROT_NONE:
		p = PROT_NONE;
		break;
	case INGOT_PROT_READ:
		p = PROT_READ;
		break;
	case INGOT_PROT_RW:
		p = PROT_READ | PROT_WRITE;
		break;
	default:
		return -EINVAL;
	}
	if (a % INGOT_PAGE_SIZE || len % INGOT_PAGE_SIZE || !len ||
	    a < bi->heap_start || len > bi->heap_size ||
	    a - bi->heap_start > bi->heap_size - len)
		return -EINVAL;
	long rc = syscall3(SYS_mprotect, a, len, p);
	if (rc < 0)
		return (int)rc;
	note_noaccess(a, len, prot == INGOT_PROT_NONE);
	return 0;
}

bool hosted_readable(uintptr_t addr)
{
	const struct ingot_boot_info *bi = &hosted.info;
	bool in_heap = addr >= bi->heap_start &&
		       addr + 16 <= bi->heap_start + bi->heap_size;
	/* The process stack: at most 8 MiB below where it started. */
	bool in_stack = addr < hosted.stack_top &&
			addr + (8UL << 20) >= hosted.stack_top;
	if (!in_heap)
		return in_stack;
	if (noaccess_overflow)
		return false;
	for (unsigned i = 0; i < nnoaccess; i++)
		if (addr < noaccess[i].end && addr + 16 > noaccess[i].start)
			return false;
	return true;
}

int ingot_seal(void)
{
	struct sock_fprog prog = {hosted_seccomp_len, hosted_seccomp_filter};

	if (hosted.sealed)
		return -EPERM;
	long rc = syscall6(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
	if (rc == 0)
		rc = syscall3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	if (rc < 0)
		return (int)rc;
	hosted.sealed = true;
	return 0;
}

void ingot_exit(int status)
{
	for (;;)
		syscall3(SYS_exit_group, status & 0xff, 0, 0);
}

void ingot_abort(const char *msg, size_t len)
{
	static const char prefix[] = "ingot: guest aborted: ";
	syscall3(SYS_write, 2, prefix, sizeof prefix - 1);
	syscall3(SYS_write, 2, msg, len);
	syscall3(SYS_write, 2, "\n", 1);
	for (;;)
		syscall3(SYS_exit_group, INGOT_EXIT_ABORT, 0, 0);
}
