/*
 * The floor of a guest's turn: ingot_poll with a deadline already past,
 * argv[1] times (default 100,000), then the mean time per call by the
 * guest's own clock.  On kvm each call is one exit to the monitor and back
 * with nothing to serve, the least a forwarded packet pays at each hop.
 */
#include <ingot/abi.h>
#include <stdio.h>
#include <stdlib.h>

int ingot_main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	uint64_t ready, now;

	if (!n)
		n = 1;
	uint64_t start = ingot_clock_monotonic();
	for (unsigned long i = 0; i < n; i++)
		ingot_poll(0, &ready, &now);
	uint64_t ns = ingot_clock_monotonic() - start;
	printf("poll_turns: %lu polls, %lu ns each\n", n,
	       (unsigned long)(ns / n));
	return 0;
}
