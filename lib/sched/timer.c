/* Timers: a binary min-heap on the deadline, with each timer's place kept
 * in it so that cancelling is O(log n). */
#include <assert.h>
#include <errno.h>

#include "sched_internal.h"

#define CAPACITY (CONFIG_SCHED_TIMERS_MAX + CONFIG_SCHED_FIBERS_MAX)

/* heap[1..n]; a timer's slot is its index, 0 when not armed. */
static struct sched_timer *heap[CAPACITY + 1];
static unsigned n;

static void place(struct sched_timer *t, unsigned i)
{
	heap[i] = t;
	t->slot = i;
}

static void sift_up(unsigned i)
{
	struct sched_timer *t = heap[i];
	while (i > 1 && heap[i / 2]->deadline > t->deadline) {
		place(heap[i / 2], i);
		i /= 2;
	}
	place(t, i);
}

static void sift_down(unsigned i)
{
	struct sched_timer *t = heap[i];
	for (;;) {
		unsigned c = 2 * i;
		if (c > n)
			break;
		if (c < n && heap[c + 1]->deadline < heap[c]->deadline)
			c++;
		if (heap[c]->deadline >= t->deadline)
			break;
		place(heap[c], i);
		i = c;
	}
	place(t, i);
}

void sched_timer_init(struct sched_timer *t, void (*fn)(struct sched_timer *),
		      void *arg)
{
	*t = (struct sched_timer){.fn = fn, .arg = arg};
}

bool sched_timer_armed(const struct sched_timer *t)
{
	return t->slot != 0;
}

void sched_timer_cancel(struct sched_timer *t)
{
	unsigned i = t->slot;
	if (!i)
		return;
	assert(i <= n && heap[i] == t);
	t->slot = 0;
	struct sched_timer *last = heap[n--];
	if (last == t)
		return;
	place(last, i);
	sift_up(i);
	sift_down(last->slot);
}

void sched_timer_insert(struct sched_timer *t, uint64_t deadline)
{
	sched_timer_cancel(t);
	assert(n < CAPACITY);
	t->deadline = deadline;
	place(t, ++n);
	sift_up(n);
}

int sched_timer_arm(struct sched_timer *t, uint64_t deadline_ns)
{
	if (!t->slot && n >= CONFIG_SCHED_TIMERS_MAX)
		return -ENOSPC;
	sched_timer_insert(t, deadline_ns);
	return 0;
}

bool sched_timers_any(void)
{
	return n > 0;
}

uint64_t sched_timers_earliest(void)
{
	return n ? heap[1]->deadline : UINT64_MAX;
}

unsigned sched_timers_count(void)
{
	return n;
}

/* Fires the timers due at now.  One re-armed by its own callback for a
 * time already past waits for the next turn, so none can spin the loop. */
void sched_timers_fire(uint64_t now)
{
	unsigned budget = n;
	while (budget-- && n && heap[1]->deadline <= now) {
		struct sched_timer *t = heap[1];
		sched_timer_cancel(t);
		sched_state.stats.timers_fired++;
		t->fn(t);
	}
}
