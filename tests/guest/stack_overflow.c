/* A fiber recurses without bound: it must hit the guard page below its
 * stack and fault, not run into other memory. */
#include <ingot/abi.h>
#include <ingot/sched.h>
#include <stdio.h>

static volatile unsigned limit = ~0u; /* opaque to the compiler */

static __attribute__((noinline)) unsigned recurse(unsigned n)
{
	volatile char pad[256];
	pad[0] = (char)n;
	if (n == limit)
		return 0;
	return recurse(n + 1) + pad[0];
}

static void overflow(void *arg)
{
	(void)arg;
	printf("recursing\n");
	recurse(0);
}

int ingot_main(int argc, char **argv)
{
	sched_spawn(overflow, NULL, "overflow");
	sched_run();
	printf("the stack never overflowed\n");
	return 1;
}
