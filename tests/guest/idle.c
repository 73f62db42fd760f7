/* Sleeps in ingot_poll for the number of milliseconds in argv[1] (default
 * 1000), then exits 0: for checking idle CPU use and the process's maps. */
#include <ingot/abi.h>
#include <stdio.h>
#include <stdlib.h>

int ingot_main(int argc, char **argv)
{
	uint64_t ms = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000;
	uint64_t deadline = ingot_clock_monotonic() + ms * 1000000, now = 0;
	printf("idle for %lu ms\n", (unsigned long)ms);
	while (now < deadline)
		ingot_poll(deadline, NULL, &now);
	printf("awake after %lu ms\n", (unsigned long)(now / 1000000));
	return 0;
}
