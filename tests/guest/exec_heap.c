/* Copies a `ret` into the heap and calls it: data is never executable, so
 * this must fault ("executing ... the page is not executable"). */
#include <ingot/abi.h>
#include <stdio.h>
#include <stdlib.h>

int ingot_main(int argc, char **argv)
{
	unsigned char *code = malloc(16);
	code[0] = 0xc3; /* ret */
	printf("calling the heap at %p\n", (void *)code);
	((void (*)(void))code)();
	printf("the heap was executable\n");
	return 1;
}
