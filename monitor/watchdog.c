/*
 * The watchdog.  A cooperative guest in which one fiber never yields makes
 * no hypercall: it spins where nobody sees it.  A thread of the monitor
 * watches the time since the last hypercall; past the limit it kicks the
 * vCPU out of KVM_RUN so the report can say where the guest was spinning.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "../host/requests.h"
#include "monitor.h"

static struct guest *watched;
static uint64_t limit_ns;
static pthread_t vcpu_thread;
static _Atomic uint64_t last_hypercall_ns;
static atomic_bool in_host, fired, started;

void watchdog_enter_host(void)
{
	atomic_store(&in_host, true);
}

void watchdog_leave_host(void)
{
	if (!limit_ns)
		return;
	atomic_store(&last_hypercall_ns, mon_now());
	atomic_store(&in_host, false);
}

bool watchdog_fired(void)
{
	return atomic_load(&fired);
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {.tv_sec = t / 1000000000ULL,
			      .tv_nsec = t % 1000000000ULL};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
}

static void *watch(void *arg)
{
	(void)arg;
	host_requests_block(); /* they are the vCPU thread's */
	atomic_store(&started, true);
	for (;;) {
		uint64_t due = atomic_load(&last_hypercall_ns) + limit_ns;
		sleep_until(due);
		uint64_t now = mon_now();
		if (atomic_load(&in_host)) {
			sleep_until(now + limit_ns);
			continue;
		}
		if (now - atomic_load(&last_hypercall_ns) < limit_ns)
			continue;
		/* KVM_RUN returns EINTR at the signal, or at once if the
		 * signal came between two runs. */
		atomic_store(&fired, true);
		watched->run->immediate_exit = 1;
		pthread_kill(vcpu_thread, SIGUSR2);
		sleep_until(mon_now() + 1000000000ULL);
		mon_msg("watchdog: the guest made no hypercall for %lu s and "
			"did not stop when asked",
			(unsigned long)(limit_ns / 1000000000ULL));
		_exit(INGOT_EXIT_WATCHDOG);
	}
	return NULL;
}

static void kick(int sig)
{
	(void)sig;
}

void watchdog_start(struct guest *g, unsigned seconds)
{
	struct sigaction sa = {.sa_handler = kick};
	pthread_t t;

	watched = g;
	g->watchdog_s = seconds;
	limit_ns = seconds * 1000000000ULL;
	vcpu_thread = pthread_self();
	atomic_store(&last_hypercall_ns, mon_now());
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL) < 0)
		mon_fail("sigaction: %m");
	if (pthread_create(&t, NULL, watch, NULL) != 0)
		mon_fail("cannot start the watchdog thread");
	/* The thread's start-up system calls (rseq, set_robust_list) must
	 * come before the seccomp filter, which applies to every thread. */
	while (!atomic_load(&started))
		sched_yield();
}
