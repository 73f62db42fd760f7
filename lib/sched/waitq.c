/* Wait queues (FIFO, doubly linked so a timed-out waiter leaves in O(1)),
 * which also serve as the run queue. */
#include <errno.h>

#include "sched_internal.h"

void sched_waitq_push(struct sched_waitq *q, struct sched_fiber *f)
{
	f->next = NULL;
	f->prev = q->tail;
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
}

void sched_waitq_remove(struct sched_waitq *q, struct sched_fiber *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		q->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		q->tail = f->prev;
	f->next = f->prev = NULL;
}

struct sched_fiber *sched_waitq_pop(struct sched_waitq *q)
{
	struct sched_fiber *f = q->head;
	if (f)
		sched_waitq_remove(q, f);
	return f;
}

static void wake(struct sched_fiber *f, int result)
{
	sched_waitq_remove(f->waiting_on, f);
	f->waiting_on = NULL;
	f->wait_result = result;
	sched_timer_cancel(&f->timer);
	sched_fiber_make_ready(f);
}

/* A wait's or a sleep's deadline passed. */
static void deadline_passed(struct sched_timer *t)
{
	struct sched_fiber *f = t->arg;
	if (f->waiting_on)
		wake(f, -ETIMEDOUT);
	else
		sched_fiber_make_ready(f);
}

static void block_until(uint64_t deadline_ns)
{
	struct sched_fiber *self = sched_state.current;

	sched_timer_init(&self->timer, deadline_passed, self);
	if (deadline_ns != UINT64_MAX)
		sched_timer_insert(&self->timer, deadline_ns);
	sched_fiber_block();
}

int sched_wait(struct sched_waitq *q, uint64_t deadline_ns)
{
	struct sched_fiber *self;

	sched_fiber_adopt_main();
	self = sched_state.current;
	if (deadline_ns <= sched_state.now)
		return -ETIMEDOUT;
	self->waiting_on = q;
	self->wait_result = 0;
	sched_waitq_push(q, self);
	block_until(deadline_ns);
	return self->wait_result;
}

unsigned sched_wake_one(struct sched_waitq *q)
{
	if (!q->head)
		return 0;
	wake(q->head, 0);
	return 1;
}

unsigned sched_wake_all(struct sched_waitq *q)
{
	unsigned n = 0;
	while (q->head) {
		wake(q->head, 0);
		n++;
	}
	return n;
}

void sched_sleep_until(uint64_t deadline_ns)
{
	sched_fiber_adopt_main();
	if (deadline_ns <= sched_state.now) {
		sched_yield();
		return;
	}
	block_until(deadline_ns);
}

void sched_sleep(uint64_t ns)
{
	sched_fiber_adopt_main();
	uint64_t now = sched_state.now;
	sched_sleep_until(ns > UINT64_MAX - now ? UINT64_MAX - 1 : now + ns);
}
