/* Never yields and never makes a hypercall: only a watchdog can stop it. */
#include <ingot/abi.h>
#include <stdio.h>

static __attribute__((noinline, noreturn)) void spin_forever(void)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
}

int ingot_main(int argc, char **argv)
{
	printf("spinning\n");
	spin_forever();
}
