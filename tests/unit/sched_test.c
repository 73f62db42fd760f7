/* Unit tests of lib/sched: ordering, sleeping, waiting, timers, the pool. */
#include <errno.h>
#include <ingot/abi.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

#define MS 1000000ULL

static char log_buf[256];
static size_t log_len;

static void log_char(char c)
{
	if (log_len < sizeof log_buf - 1)
		log_buf[log_len++] = c;
}

static void yielder(void *arg)
{
	for (int i = 0; i < 3; i++) {
		log_char(*(const char *)arg);
		sched_yield();
	}
}

static void test_yield_order(void)
{
	log_len = 0;
	int a = sched_spawn(yielder, "a", "a");
	int b = sched_spawn(yielder, "b", "b");
	CHECK(a > 0 && b > 0 && a != b, "ids %d %d", a, b);
	sched_run();
	log_buf[log_len] = '\0';
	CHECK(strcmp(log_buf, "ababab") == 0, "yield order %s", log_buf);
}

struct sleeper {
	uint64_t ms, woke;
	char tag;
};

static void sleeper(void *arg)
{
	struct sleeper *s = arg;
	uint64_t start = sched_now();
	sched_sleep(s->ms * MS);
	s->woke = sched_now() - start;
	log_char(s->tag);
}

static void test_sleep_order(void)
{
	struct sleeper s[3] = {{30, 0, '3'}, {10, 0, '1'}, {20, 0, '2'}};
	log_len = 0;
	for (int i = 0; i < 3; i++)
		sched_spawn(sleeper, &s[i], "sleeper");
	sched_run();
	log_buf[log_len] = '\0';
	CHECK(strcmp(log_buf, "123") == 0, "wake order %s", log_buf);
	for (int i = 0; i < 3; i++)
		CHECK(s[i].woke >= s[i].ms * MS, "slept %lu ns, asked %lu ms",
		      (unsigned long)s[i].woke, (unsigned long)s[i].ms);
}

static struct sched_waitq q = SCHED_WAITQ_INIT;
static int wait_result = 1;

static void waiter(void *arg)
{
	wait_result = sched_wait(&q, *(uint64_t *)arg);
}

static void test_waitq(void)
{
	uint64_t forever = UINT64_MAX;
	sched_spawn(waiter, &forever, "waiter");
	sched_yield(); /* the waiter blocks */
	CHECK(wait_result == 1, "waiter returned early");
	CHECK(sched_wake_one(&q) == 1, "wake_one found no waiter");
	sched_run();
	CHECK(wait_result == 0, "woken wait returned %d", wait_result);
	CHECK(sched_wake_one(&q) == 0, "queue not empty after wake");

	uint64_t start = sched_now(), deadline = start + 10 * MS;
	sched_spawn(waiter, &deadline, "waiter");
	sched_run();
	CHECK(wait_result == -ETIMEDOUT, "timed wait returned %d", wait_result);
	CHECK(sched_now() >= deadline, "timed out early");

	for (int i = 0; i < 3; i++)
		sched_spawn(waiter, &forever, "waiter");
	sched_yield();
	CHECK(sched_wake_all(&q) == 3, "wake_all count");
	sched_run();
}

static uint64_t fired[64];
static unsigned nfired;

static void on_timer(struct sched_timer *t)
{
	if (nfired < 64)
		fired[nfired++] = t->deadline;
}

static void test_timers(void)
{
	static struct sched_timer t[40];
	uint64_t base = sched_now(), x = 12345;
	nfired = 0;
	for (int i = 0; i < 40; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		sched_timer_init(&t[i], on_timer, NULL);
		CHECK(sched_timer_arm(&t[i], base + (x >> 33) % (20 * MS)) == 0,
		      "arm %d", i);
	}
	for (int i = 0; i < 40; i += 4)
		sched_timer_cancel(&t[i]);
	CHECK(!sched_timer_armed(&t[0]) && sched_timer_armed(&t[1]),
	      "armed state");
	sched_timer_arm(&t[1], base + 25 * MS); /* re-arm later */
	sched_sleep(30 * MS);
	CHECK(nfired == 30, "%u timers fired, want 30", nfired);
	for (unsigned i = 1; i < nfired; i++)
		CHECK(fired[i - 1] <= fired[i], "timer %u fired out of order",
		      i);
	CHECK(nfired && fired[nfired - 1] == base + 25 * MS,
	      "re-armed timer fired last");
}

static void nothing(void *arg)
{
	(void)arg;
}

static void test_pool(void)
{
	int n = 0, id;
	while ((id = sched_spawn(nothing, NULL, "filler")) > 0)
		n++;
	CHECK(id == -EAGAIN, "full pool returned %d", id);
	CHECK(n == CONFIG_SCHED_FIBERS_MAX - 1, "pool held %d fibers", n);
	sched_run();
	CHECK(sched_spawn(nothing, NULL, "again") > 0, "slots not reused");
	sched_run();
}

static int self_id;
static void who(void *arg)
{
	self_id = sched_self();
	(void)arg;
}

int ingot_main(int argc, char **argv)
{
	test_yield_order();
	test_sleep_order();
	test_waitq();
	test_timers();
	test_pool();
	int id = sched_spawn(who, NULL, "who");
	sched_run();
	CHECK(self_id == id && sched_self() == 0, "ids %d %d", self_id, id);
	CHECK(strcmp(sched_self_name(), "main") == 0, "main's name");

	struct sched_stats st;
	sched_stats(&st);
	CHECK(st.fibers_live == 1, "%u live", st.fibers_live);
	CHECK(st.fibers_peak == CONFIG_SCHED_FIBERS_MAX, "peak %u",
	      st.fibers_peak);
	CHECK(st.switches > 0 && st.turns > 0 && st.sleeps > 0, "stats");
	CHECK(st.timers_armed == 0, "%u timers left", st.timers_armed);
	return check_done("sched_test");
}
