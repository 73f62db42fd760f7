/* Sleeps (sched_sleep) for the milliseconds in argv[1] (default 1000), then
 * prints how long it slept by its own monotonic clock and exits 0: for
 * checking timers, idle CPU use and the process's memory map.
 *
 * sched_sleep counts from sched_now(), so that is where the measurement
 * starts; it ends with a fresh read of the clock, since sched_now() is
 * only as fresh as the turn. */
#include <ingot/abi.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>

int ingot_main(int argc, char **argv)
{
	uint64_t ms = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000;
	printf("sleeping for %lu ms\n", (unsigned long)ms);
	uint64_t start = sched_now();
	sched_sleep(ms * 1000000);
	uint64_t end = ingot_clock_monotonic();
	printf("awake after %lu ns\n", (unsigned long)(end - start));
	return 0;
}
