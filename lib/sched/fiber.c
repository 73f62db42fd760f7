/* Fibers: the stack pool, spawning, switching, ending. */
#include <errno.h>
#include <ingot/abi.h>
#include <stdio.h>
#include <stdlib.h>

#include "sched_internal.h"

#define GUARD INGOT_PAGE_SIZE
#define SLOT (CONFIG_SCHED_STACK_SIZE + GUARD)

struct sched sched;
struct sched_waitq sched_all_done;

/* Set when a fiber ends; its slot is freed by whoever runs next, once
 * nothing runs on its stack any more. */
static struct sched_fiber *dead;

void sched_start(void);

/*
 * Start of day (before the seal, while page protections can still change):
 * one reservation for every stack, with a guard page below each.  Stack
 * pages stay untouched until a fiber uses them.  A small guest (--mem)
 * gets fewer stacks: at most a quarter of the heap, at least one.
 */
static int reserve_stacks(void)
{
	size_t n = CONFIG_SCHED_FIBERS_MAX - 1;
	size_t fit = ingot_boot_info()->heap_size / 4 / SLOT;
	char *pool;

	if (n > fit)
		n = fit ? fit : 1;
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
		int rc = ingot_mem_protect(pool + i * SLOT, GUARD,
					   INGOT_PROT_NONE);
		if (rc < 0)
			return rc;
		sched.fibers[i + 1].stack = pool + i * SLOT + GUARD;
	}
	return 0;
}
INGOT_INIT(reserve_stacks);

/* The boot fiber becomes fiber 0 the first time the scheduler is used. */
void fiber_adopt_main(void)
{
	if (sched.started)
		return;
	sched.started = true;
	for (int i = 0; i < CONFIG_SCHED_FIBERS_MAX; i++)
		sched.fibers[i].id = i;
	sched.current = &sched.fibers[0];
	sched.current->state = FIBER_RUNNING;
	sched.current->name = "main";
	sched.live = sched.stats.fibers_peak = 1;
	loop_refresh_now();
}

static void reap(void)
{
	if (dead && dead != sched.current) {
		dead->state = FIBER_FREE;
		dead = NULL;
	}
}

void fiber_make_ready(struct sched_fiber *f)
{
	if (f->state == FIBER_BLOCKED)
		sched.blocked--;
	f->state = FIBER_READY;
	waitq_push(&sched.runq, f);
}

static void switch_to(struct sched_fiber *next)
{
	struct sched_fiber *prev = sched.current;
	if (next == prev) {
		prev->state = FIBER_RUNNING;
		return;
	}
	sched.current = next;
	next->state = FIBER_RUNNING;
	sched.stats.switches++;
	sched_switch(&prev->rsp, next->rsp);
	reap();
}

void fiber_block(void)
{
	struct sched_fiber *self = sched.current;
	if (self->state == FIBER_RUNNING) {
		self->state = FIBER_BLOCKED;
		sched.blocked++;
	}
	switch_to(loop_next());
}

void sched_yield(void)
{
	fiber_adopt_main();
	fiber_make_ready(sched.current);
	switch_to(loop_next());
}

/* The C side of sched_start: the new fiber's whole life. */
_Noreturn void sched_fiber_main(void);

void sched_fiber_main(void)
{
	struct sched_fiber *self = sched.current;

	reap();
	self->fn(self->arg);
	self->state = FIBER_DEAD;
	dead = self;
	if (--sched.live == 1)
		sched_wake_all(&sched_all_done);
	switch_to(loop_next());
	__builtin_unreachable();
}

int sched_spawn(void (*fn)(void *), void *arg, const char *name)
{
	struct sched_fiber *f = NULL;

	fiber_adopt_main();
	for (int i = 1; i < CONFIG_SCHED_FIBERS_MAX && !f; i++)
		if (sched.fibers[i].state == FIBER_FREE && sched.fibers[i].stack)
			f = &sched.fibers[i];
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
	if (++sched.live > sched.stats.fibers_peak)
		sched.stats.fibers_peak = sched.live;
	fiber_make_ready(f);
	return f->id;
}

int sched_self(void)
{
	fiber_adopt_main();
	return sched.current->id;
}

const char *sched_self_name(void)
{
	fiber_adopt_main();
	return sched.current->name;
}

int sched_run(void)
{
	fiber_adopt_main();
	while (sched.live > 1)
		sched_wait(&sched_all_done, UINT64_MAX);
	return 0;
}
