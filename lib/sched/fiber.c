/* Fibers: the stack pool, spawning, switching, ending. */
#include <errno.h>
#include <ingot/abi.h>
#include <stdio.h>
#include <stdlib.h>

#include "sched_internal.h"

#define GUARD INGOT_PAGE_SIZE
#define SLOT  (CONFIG_SCHED_STACK_SIZE + GUARD)

struct sched_state sched_state;
struct sched_waitq sched_all_done;

/* Set when a fiber ends; its slot is freed by whoever runs next, once
 * nothing runs on its stack any more. */
static struct sched_fiber *dead;

void sched_start(void);

/*
 * Start of day (before the seal, while page protections can still change):
 * one reservation for every stack, with a guard page below each, as many
 * as the build asked for.  Stack pages stay untouched until a fiber uses
 * them.
 */
static int reserve_stacks(void)
{
	size_t n = CONFIG_SCHED_FIBERS_MAX - 1;
	char *pool;

	if (!n)
		return 0;
	pool = aligned_alloc(INGOT_PAGE_SIZE, n * SLOT);
	if (!pool) {
		printf("sched: no memory for %zu fiber stacks of %u KiB "
		       "(raise --mem or lower CONFIG_SCHED_FIBERS_MAX)\n",
		       n, CONFIG_SCHED_STACK_SIZE / 1024);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int rc =
		    ingot_mem_protect(pool + i * SLOT, GUARD, INGOT_PROT_NONE);
		if (rc < 0)
			return rc;
		sched_state.fibers[i + 1].stack = pool + i * SLOT + GUARD;
	}
	return 0;
}
INGOT_INIT(reserve_stacks);

/* The boot fiber becomes fiber 0 the first time the scheduler is used. */
void sched_fiber_adopt_main(void)
{
	if (sched_state.started)
		return;
	sched_state.started = true;
	for (int i = 0; i < CONFIG_SCHED_FIBERS_MAX; i++)
		sched_state.fibers[i].id = i;
	sched_state.current = &sched_state.fibers[0];
	sched_state.current->state = FIBER_RUNNING;
	sched_state.current->name = "main";
	sched_state.live = sched_state.stats.fibers_peak = 1;
	sched_loop_refresh_now();
}

static void reap(void)
{
	if (dead && dead != sched_state.current) {
		dead->state = FIBER_FREE;
		dead = NULL;
	}
}

void sched_fiber_make_ready(struct sched_fiber *f)
{
	if (f->state == FIBER_BLOCKED)
		sched_state.blocked--;
	f->state = FIBER_READY;
	sched_waitq_push(&sched_state.runq, f);
}

static void switch_to(struct sched_fiber *next)
{
	struct sched_fiber *prev = sched_state.current;
	if (next == prev) {
		prev->state = FIBER_RUNNING;
		return;
	}
	sched_state.current = next;
	next->state = FIBER_RUNNING;
	sched_state.stats.switches++;
	sched_switch(&prev->rsp, next->rsp);
	reap();
}

void sched_fiber_block(void)
{
	struct sched_fiber *self = sched_state.current;
	if (self->state == FIBER_RUNNING) {
		self->state = FIBER_BLOCKED;
		sched_state.blocked++;
	}
	switch_to(sched_loop_next());
}

void sched_yield(void)
{
	sched_fiber_adopt_main();
	sched_fiber_make_ready(sched_state.current);
	switch_to(sched_loop_next());
}

/* The C side of sched_start: the new fiber's whole life. */
_Noreturn void sched_fiber_main(void);

void sched_fiber_main(void)
{
	struct sched_fiber *self = sched_state.current;

	reap();
	self->fn(self->arg);
	self->state = FIBER_DEAD;
	dead = self;
	if (--sched_state.live == 1)
		sched_wake_all(&sched_all_done);
	switch_to(sched_loop_next());
	__builtin_unreachable();
}

int sched_spawn(void (*fn)(void *), void *arg, const char *name)
{
	struct sched_fiber *f = NULL;

	sched_fiber_adopt_main();
	for (int i = 1; i < CONFIG_SCHED_FIBERS_MAX && !f; i++)
		if (sched_state.fibers[i].state == FIBER_FREE &&
		    sched_state.fibers[i].stack)
			f = &sched_state.fibers[i];
	if (!f)
		return -EAGAIN;
	f->fn = fn;
	f->arg = arg;
	f->name = name ? name : "fiber";
	f->waiting_on = NULL;
	/* What sched_switch pops: six callee-saved registers (zero), then
	 * the return address. */
	uint64_t *sp = (uint64_t *)(f->stack + CONFIG_SCHED_STACK_SIZE);
	*--sp = 0; /* keeps sched_start's frame 16-byte aligned */
	*--sp = (uintptr_t)sched_start;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	f->rsp = (uintptr_t)sp;
	if (++sched_state.live > sched_state.stats.fibers_peak)
		sched_state.stats.fibers_peak = sched_state.live;
	sched_fiber_make_ready(f);
	return f->id;
}

int sched_self(void)
{
	sched_fiber_adopt_main();
	return sched_state.current->id;
}

const char *sched_self_name(void)
{
	sched_fiber_adopt_main();
	return sched_state.current->name;
}

int sched_run(void)
{
	sched_fiber_adopt_main();
	while (sched_state.live > 1)
		sched_wait(&sched_all_done, UINT64_MAX);
	return 0;
}
