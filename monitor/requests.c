/*
 * The operator's requests, by signal: SIGTERM or SIGINT asks the guest to
 * stop (a second one ends the monitor at once), SIGUSR1 asks it for a
 * report.  They reach the guest as INGOT_READY_STOP and INGOT_READY_REPORT
 * in the ready set of its next ingot_poll().
 *
 * The signals stay unblocked (a busy guest's KVM_RUN returns EINTR, and a
 * guest that never polls can still be stopped twice), except, when the
 * monitor is about to sleep, between its last check for a request and
 * ppoll, which unblocks them atomically: a request is never lost in that
 * gap, and a poll that does not sleep costs no extra system call.
 */
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "monitor.h"

static atomic_bool stop_requested, stop_delivered, report_requested;

static void on_signal(int sig)
{
	if (sig == SIGUSR1) {
		atomic_store(&report_requested, true);
		return;
	}
	if (atomic_exchange(&stop_requested, true))
		_exit(128 + sig); /* asked twice: the guest did not stop */
}

static void request_set(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGINT);
	sigaddset(s, SIGUSR1);
}

void requests_init(void)
{
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGUSR1, &sa, NULL) < 0)
		mon_fail("sigaction: %m");
}

void requests_block(sigset_t *old)
{
	sigset_t s;
	request_set(&s);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

void requests_restore(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

uint64_t requests_take(void)
{
	uint64_t r = 0;
	if (atomic_load(&stop_requested) &&
	    !atomic_exchange(&stop_delivered, true))
		r |= INGOT_READY_STOP;
	if (atomic_exchange(&report_requested, false))
		r |= INGOT_READY_REPORT;
	return r;
}
