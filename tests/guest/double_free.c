/* Frees the same block twice: malloc must stop the guest with a report. */
#include <ingot/abi.h>
#include <stdio.h>
#include <stdlib.h>

int ingot_main(int argc, char **argv)
{
	char *p = malloc(48);
	char *q = malloc(48); /* keeps p from merging into the top */
	free(p);
	free(p);
	printf("the second free returned %p\n", (void *)q);
	return 0;
}
