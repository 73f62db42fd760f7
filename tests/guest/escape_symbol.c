/* Faults in a function whose symbol name holds a terminal escape sequence:
 * the host's report must show only printable text. */
#include <ingot/abi.h>
#include <stdio.h>

__attribute__((noinline, used)) void
crash(volatile int *p) __asm__("\"crash\x1b[2J\x1b[31m\"");

void crash(volatile int *p)
{
	*p = 1;
}

int ingot_main(int argc, char **argv)
{
	printf("faulting\n");
	crash((volatile int *)8);
	return 1;
}
