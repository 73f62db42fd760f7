/*
 * sched: fibers (cooperative threads with their own stacks), timers and the
 * event loop.
 *
 * One vCPU, no preemption: a fiber runs until it yields, sleeps, waits or
 * ends.  ingot_main() runs as fiber 0 ("main"); returning from it ends the
 * guest, whatever other fibers exist.
 *
 * The loop works in turns.  A turn reads the clock once (on nested KVM a
 * clock read is an exit, ~30 us), fires the timers that are due and runs
 * every device poller; then the fibers that were runnable run, each once.
 * When no fiber is runnable, the loop sleeps in ingot_poll() until the
 * earliest timer or a device wakes it (at once if a device has news): an
 * idle guest uses no CPU.  When every fiber waits and nothing (timer or poller)
 * could ever wake one, the guest aborts with a deadlock report naming them.
 *
 * Stacks come from a pool reserved at start of day, each with an unmapped
 * guard page below it: an overflow is a page fault, reported, not silent
 * corruption.  Sizes are build-time options (ingot/options.h).
 */
#ifndef INGOT_SCHED_H
#define INGOT_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct sched_fiber;

/* --- fibers -------------------------------------------------------------- */

/*
 * Starts fn(arg) in a new fiber, runnable at once (it first runs when the
 * caller next yields or blocks).  name (not copied) appears in reports.
 * Returns the fiber's id (> 0), or -EAGAIN when all
 * CONFIG_SCHED_FIBERS_MAX fibers exist.  The fiber ends
 * when fn returns; its stack then serves the next fiber spawned.
 */
int sched_spawn(void (*fn)(void *arg), void *arg, const char *name);

/* The running fiber's id (0 for main) and name. */
int sched_self(void);
const char *sched_self_name(void);

/* Lets every other runnable fiber run once, then returns. */
void sched_yield(void);

/* Sleeps until monotonic time reaches deadline_ns / for ns nanoseconds. */
void sched_sleep_until(uint64_t deadline_ns);
void sched_sleep(uint64_t ns);

/*
 * Monotonic time in ns as of the start of this turn: free to call, but it
 * does not advance while a fiber computes without yielding.
 */
uint64_t sched_now(void);

/*
 * Blocks the caller until every other fiber has ended; returns 0.  A
 * server's main spawns its fibers and calls it (and never returns, since
 * servers do not end).
 */
int sched_run(void);

/* --- wait queues --------------------------------------------------------- */

/* Fibers waiting for something; zero-initialised is empty (SCHED_WAITQ_INIT).
 */
struct sched_waitq {
	struct sched_fiber *head, *tail;
};
#define SCHED_WAITQ_INIT                                                       \
	{                                                                      \
		0, 0                                                           \
	}

/*
 * Blocks the caller on q until a wake or monotonic time deadline_ns
 * (UINT64_MAX: no deadline).  Returns 0 when woken, -ETIMEDOUT at the
 * deadline.  Wakeups are FIFO.
 */
int sched_wait(struct sched_waitq *q, uint64_t deadline_ns);

/* Makes the longest waiter (or every waiter) runnable; returns how many. */
unsigned sched_wake_one(struct sched_waitq *q);
unsigned sched_wake_all(struct sched_waitq *q);

/* --- timers -------------------------------------------------------------- */

/*
 * A one-shot timer: fn(t) runs from the loop (not in any fiber: it must not
 * block) when monotonic time reaches the deadline.  The caller owns the
 * struct; it must stay valid while armed.
 */
struct sched_timer {
	uint64_t deadline;
	void (*fn)(struct sched_timer *t);
	void *arg;
	unsigned slot; /* internal: 0 when not armed */
};

void sched_timer_init(struct sched_timer *t, void (*fn)(struct sched_timer *),
		      void *arg);
/* Arms (or re-arms) t.  Returns 0, or -ENOSPC when CONFIG_SCHED_TIMERS_MAX
 * timers are armed already. */
int sched_timer_arm(struct sched_timer *t, uint64_t deadline_ns);
/* Disarms t; harmless if it is not armed. */
void sched_timer_cancel(struct sched_timer *t);
bool sched_timer_armed(const struct sched_timer *t);

/* --- device pollers ------------------------------------------------------ */

/*
 * A driver's hook into the loop.  poll(arg, now) runs every turn (a turn
 * follows every sleep, whatever ended it); it moves all the work pending
 * (received frames to their fibers, say: it must leave none, since the loop
 * sleeps next if no fiber is runnable) and returns how much it did (summed
 * in sched_stats).
 */
struct sched_poller {
	int (*poll)(void *arg, uint64_t now);
	void *arg;
	/* If not NULL, runs every turn before the loop hands control to the
	 * host (or sleeps): for output the driver held back while fibers ran,
	 * to send it in one batch.  It must not block. */
	void (*flush)(void *arg);
	/* If not NULL, asked (after flush) before the loop sleeps: device
	 * handles, one bit each, whose news alone should end the sleep, or 0
	 * for any device's.  While some poller names any, the loop sleeps
	 * for those (and its timers: ingot_poll_for), and what other devices
	 * bring meanwhile waits for the turn that follows.  For a poller
	 * with nothing worth doing until its device completes. */
	uint64_t (*wake_for)(void *arg);
};

/* Registers p for the guest's lifetime.  Returns 0 or -ENOSPC. */
int sched_poller_add(struct sched_poller *p);

/* --- the operator's requests ---------------------------------------------- */

/*
 * When the host asks the guest to stop (INGOT_READY_STOP: SIGTERM to the
 * monitor), the loop calls exit(0), which runs the atexit() handlers.  When
 * it asks for a report (INGOT_READY_REPORT: SIGUSR1), the loop calls every
 * function registered here (at most CONFIG_SCHED_REPORTERS_MAX), outside
 * any fiber: they print, they must not block.  Returns 0 or -ENOSPC.
 */
int sched_on_report(void (*fn)(void));

/* --- counters ------------------------------------------------------------ */

struct sched_stats {
	uint64_t turns;    /* loop turns */
	uint64_t switches; /* context switches */
	uint64_t sleeps;   /* ingot_poll() calls that may sleep */
	uint64_t timers_fired;
	uint64_t poller_work; /* what the pollers said they did */
	unsigned fibers_live; /* main included */
	unsigned fibers_peak;
	unsigned timers_armed;
};

void sched_stats(struct sched_stats *s);

#endif
