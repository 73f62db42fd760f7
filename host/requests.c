/*
 * The operator's requests: see requests.h.  The signals stay unblocked (on
 * kvm a busy guest's KVM_RUN returns EINTR, and a guest that never polls
 * can still be stopped twice), except, when the host is about to sleep,
 * between its last check for a request and ppoll, which unblocks them
 * atomically (host_poll): a request is never lost in that gap.
 */
#include <ingot/abi.h>
#include <stdbool.h>

#include "requests.h"
#include "signal.h"
#include "sys.h"

static bool stop_requested, stop_delivered, report_requested;

static void on_request(int sig, void *info, void *context)
{
	(void)info;
	(void)context;
	if (sig == SIGUSR1) {
		__atomic_store_n(&report_requested, true, __ATOMIC_SEQ_CST);
		return;
	}
	if (__atomic_exchange_n(&stop_requested, true, __ATOMIC_SEQ_CST))
		sys_exit(128 + sig); /* asked twice: the guest did not stop */
}

void host_requests_init(void)
{
	host_signal(SIGTERM, on_request);
	host_signal(SIGINT, on_request);
	host_signal(SIGUSR1, on_request);
	host_signal_ignore(SIGPIPE);
}

uint64_t host_requests_take(void)
{
	uint64_t r = 0;
	if (__atomic_load_n(&stop_requested, __ATOMIC_SEQ_CST) &&
	    !__atomic_exchange_n(&stop_delivered, true, __ATOMIC_SEQ_CST))
		r |= INGOT_READY_STOP;
	if (__atomic_exchange_n(&report_requested, false, __ATOMIC_SEQ_CST))
		r |= INGOT_READY_REPORT;
	return r;
}

uint64_t host_requests_block(void)
{
	const uint64_t requests =
	    SIGMASK(SIGTERM) | SIGMASK(SIGINT) | SIGMASK(SIGUSR1);
	uint64_t old = 0;
	syscall4(SYS_rt_sigprocmask, SIG_BLOCK, &requests, &old, 8);
	return old;
}

void host_requests_restore(uint64_t old)
{
	syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, 8);
}
