/*
 * The event loop.  It runs in whichever fiber just gave up the CPU, until
 * some fiber can run.  Each turn reads the clock once, fires due timers and
 * runs the pollers; it sleeps in ingot_poll() whenever nothing is runnable.
 * That one call also serves the devices (ingot_poll returns at once when
 * one has news), so a guest answering a request makes one exit per turn,
 * never one to flush and another to sleep; an idle guest never spins.
 */
#include <errno.h>
#include <ingot/abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

static struct sched_poller *pollers[CONFIG_SCHED_POLLERS_MAX];
static unsigned npollers;
static void (*reporters[CONFIG_SCHED_REPORTERS_MAX])(void);
static unsigned nreporters;
/* The last fiber runnable at the end of the previous turn: once it has
 * run, the next turn starts, so timers and devices are never starved. */
static struct sched_fiber *turn_end;

int sched_poller_add(struct sched_poller *p)
{
	if (npollers == CONFIG_SCHED_POLLERS_MAX)
		return -ENOSPC;
	pollers[npollers++] = p;
	return 0;
}

int sched_on_report(void (*fn)(void))
{
	if (nreporters == CONFIG_SCHED_REPORTERS_MAX)
		return -ENOSPC;
	reporters[nreporters++] = fn;
	return 0;
}

static void requests(uint64_t ready)
{
	if (ready & INGOT_READY_STOP)
		exit(0);
	if (ready & INGOT_READY_REPORT) {
		for (unsigned i = 0; i < nreporters; i++)
			reporters[i]();
		fflush(stdout);
	}
}

void sched_loop_refresh_now(void)
{
	sched_state.now = ingot_clock_monotonic();
}

uint64_t sched_now(void)
{
	sched_fiber_adopt_main();
	return sched_state.now;
}

static _Noreturn void deadlock(void)
{
	char msg[512];
	size_t len = (size_t)snprintf(msg, sizeof msg,
				      "sched: deadlock: every fiber waits and "
				      "no timer or device can wake one:");
	for (int i = 0; i < CONFIG_SCHED_FIBERS_MAX && len < sizeof msg; i++) {
		const struct sched_fiber *f = &sched_state.fibers[i];
		if (f->state == FIBER_BLOCKED)
			len += snprintf(msg + len, sizeof msg - len, " %s",
					f->name);
	}
	fflush(stdout);
	ingot_abort(msg, len < sizeof msg ? len : sizeof msg - 1);
}

/* The devices whose news should end the loop's sleep. */
static uint64_t wake_set(void)
{
	uint64_t wake = 0;
	for (unsigned i = 0; i < npollers; i++)
		if (pollers[i]->wake_for)
			wake |= pollers[i]->wake_for(pollers[i]->arg);
	return wake ? wake : INGOT_WAKE_ANY;
}

static void turn(void)
{
	uint64_t now, ready = 0;

	sched_state.stats.turns++;
	for (unsigned i = 0; i < npollers; i++)
		if (pollers[i]->flush)
			pollers[i]->flush(pollers[i]->arg);
	if (!sched_state.runq.head) {
		if (!sched_timers_any() && !npollers)
			deadlock();
		fflush(stdout);
		sched_state.stats.sleeps++;
		ingot_poll_for(sched_timers_earliest(), wake_set(), &ready,
			       &now);
	} else if (npollers) {
		/* Devices need the host's attention each turn (the network
		 * rings are served in ingot_poll): one call does that and
		 * reads the clock. */
		ingot_poll(0, &ready, &now);
	} else {
		now = ingot_clock_monotonic();
	}
	sched_state.now = now;
	if (ready & (INGOT_READY_STOP | INGOT_READY_REPORT))
		requests(ready);
	sched_timers_fire(now);
	for (unsigned i = 0; i < npollers; i++)
		sched_state.stats.poller_work +=
		    (unsigned)pollers[i]->poll(pollers[i]->arg, now);
	turn_end = sched_state.runq.tail;
}

struct sched_fiber *sched_loop_next(void)
{
	for (;;) {
		if (turn_end) {
			struct sched_fiber *f =
			    sched_waitq_pop(&sched_state.runq);
			if (f == turn_end)
				turn_end = NULL;
			return f;
		}
		turn();
	}
}

void sched_stats(struct sched_stats *s)
{
	sched_fiber_adopt_main();
	*s = sched_state.stats;
	s->fibers_live = sched_state.live;
	s->timers_armed = sched_timers_count();
}
