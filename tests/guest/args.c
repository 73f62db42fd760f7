/* Prints its arguments, one per line, to check how they are passed. */
#include <ingot/abi.h>
#include <stdio.h>

int ingot_main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	return argc == 1 ? 0 : 10 + argc;
}
