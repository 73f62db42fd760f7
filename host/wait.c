/*
 * The poll: see wait.h.  Under load the wait spins for a while before it
 * sleeps: waking a sleeping thread costs ~55 us here, more than a client
 * takes to send its next request.  It spins only while news keeps coming
 * within the spin time, so an idle guest never spins.
 */
#include <errno.h>
#include <ingot/abi.h>
#include <stdbool.h>

#include "block.h"
#include "block_dev.h"
#include "msg.h"
#include "net.h"
#include "requests.h"
#include "sys.h"
#include "wait.h"

#define POLL_SPIN_NS 150000

static struct {
	uint64_t polls, sleeps;
} stats;

static void sleep_until(uint64_t deadline, uint64_t now, uint64_t unblocked,
			uint64_t wake)
{
	struct kernel_pollfd fds[INGOT_DEVICES_MAX + 1];
	uint64_t wait = deadline - now;
	struct kernel_timespec ts = {(int64_t)(wait / 1000000000ULL),
				     (int64_t)(wait % 1000000000ULL)};
	unsigned n = host_net_pollfds(fds, wake);
	int nblock = host_block_sleep_fds(fds + n);
	if (nblock < 0)
		return;

	stats.sleeps++;
	long rc = syscall6(SYS_ppoll, (long)fds, n + (unsigned)nblock,
			   (long)(deadline == UINT64_MAX ? NULL : &ts),
			   (long)&unblocked, 8, 0);
	if (rc < 0 && rc != -EINTR)
		host_stop("ppoll: error %ld", -rc);
	host_block_woke(fds + n, nblock);
}

uint64_t host_poll(uint64_t deadline_ns, uint64_t wake, uint64_t boot_ns,
		   uint64_t *now_ns)
{
	static bool busy; /* the last wait ended with news within the spin */
	uint64_t ready = 0, unblocked = 0, now;
	bool blocked = false;

	stats.polls++;
	wake |= INGOT_READY_STOP | INGOT_READY_REPORT;
	uint64_t start = host_now() - boot_ns;
	for (;;) {
		/* Block requests first: a durable write the guest waits for
		 * starts before the frames of its turn go out (sending to a
		 * tap runs the receiver's stack here, ~5 us a frame). */
		ready |= host_block_service();
		ready |= host_net_service() | host_requests_take();
		now = host_now() - boot_ns;
		if ((ready & wake) || now >= deadline_ns)
			break;
		/* A guest waiting for some devices only waits for what their
		 * own wait (host_block_sleep_fds) spins for. */
		if (busy && wake == INGOT_WAKE_ANY &&
		    now - start < POLL_SPIN_NS)
			continue;
		busy = false;
		if (!blocked) {
			/* Requests block from here to ppoll, which unblocks
			 * them atomically; check once more first. */
			unblocked = host_requests_block();
			blocked = true;
			continue;
		}
		sleep_until(deadline_ns, now, unblocked, wake);
	}
	if (blocked)
		host_requests_restore(unblocked);
	now = host_now() - boot_ns;
	busy = (ready & wake) && now - start < POLL_SPIN_NS;
	*now_ns = now;
	return ready;
}

void host_wait_report(void)
{
	if (host_net_count() || host_block_ndevs)
		host_msg("poll: %lu calls, %lu of them slept",
			 (unsigned long)stats.polls,
			 (unsigned long)stats.sleeps);
}
