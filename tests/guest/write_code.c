/* Writes to one of its own functions: code is read-only, so this must fault
 * ("writing ... the page is read-only"), never succeed. */
#include <ingot/abi.h>
#include <stdio.h>

static __attribute__((noinline)) int victim(void)
{
	return 1;
}

static __attribute__((noinline)) void overwrite(volatile unsigned char *p)
{
	*p = 0xc3; /* ret */
}

int ingot_main(int argc, char **argv)
{
	printf("writing to code at %p\n", (void *)victim);
	overwrite((volatile unsigned char *)victim);
	printf("code was writable\n");
	return victim();
}
