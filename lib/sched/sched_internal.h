/* lib/sched internals shared by its files. */
#ifndef SCHED_INTERNAL_H
#define SCHED_INTERNAL_H

#include <ingot/sched.h>
#include <stddef.h>

enum fiber_state {
	FIBER_FREE,
	FIBER_READY,
	FIBER_RUNNING,
	FIBER_BLOCKED,
	FIBER_DEAD
};

struct sched_fiber {
	uint64_t rsp; /* saved while not running */
	enum fiber_state state;
	int id;
	const char *name;
	void (*fn)(void *);
	void *arg;
	char *stack; /* lowest usable byte, above the guard page */
	/* Run queue or wait queue links: a fiber is on at most one. */
	struct sched_fiber *next, *prev;
	struct sched_waitq *waiting_on;
	struct sched_timer timer; /* a sleep's or a wait's deadline */
	int wait_result;
};

struct sched_state {
	struct sched_fiber fibers[CONFIG_SCHED_FIBERS_MAX];
	struct sched_fiber *current;
	struct sched_waitq runq;
	unsigned live, blocked;
	uint64_t now;
	bool started;
	struct sched_stats stats;
};

extern struct sched_state sched_state;
extern struct sched_waitq sched_all_done; /* main waits here in sched_run */

void sched_switch(uint64_t *save_rsp, uint64_t load_rsp);

/* fiber.c */
void sched_fiber_adopt_main(void);
void sched_fiber_make_ready(struct sched_fiber *f);
/* Gives the CPU away until the current fiber is ready again. */
void sched_fiber_block(void);

/* loop.c: runs turns until a fiber is runnable; returns it. */
struct sched_fiber *sched_loop_next(void);
void sched_loop_refresh_now(void);

/* timer.c: sched_timer_insert() never fails: the heap keeps a place for every
 * fiber's own timer beyond the CONFIG_SCHED_TIMERS_MAX others may arm. */
void sched_timer_insert(struct sched_timer *t, uint64_t deadline);
bool sched_timers_any(void);
uint64_t sched_timers_earliest(void);
unsigned sched_timers_count(void);
void sched_timers_fire(uint64_t now);

/* waitq.c */
void sched_waitq_push(struct sched_waitq *q, struct sched_fiber *f);
struct sched_fiber *sched_waitq_pop(struct sched_waitq *q);
void sched_waitq_remove(struct sched_waitq *q, struct sched_fiber *f);

#endif
