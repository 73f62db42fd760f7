/* Sleeps (sched_sleep) for the milliseconds in argv[1] (default 1000), then
 * exits 0: for checking idle CPU use and the process's memory map. */
#include <ingot/abi.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>

int ingot_main(int argc, char **argv)
{
	uint64_t ms = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000;
	uint64_t start = sched_now();
	printf("sleeping for %lu ms\n", (unsigned long)ms);
	sched_sleep(ms * 1000000);
	printf("awake after %lu ms\n",
	       (unsigned long)((sched_now() - start) / 1000000));
	return 0;
}
