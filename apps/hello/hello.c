/* The smallest appliance: one greeting line, exit 0.  The boot benchmark
 * launches it. */
#include <ingot/abi.h>
#include <stdio.h>

int ingot_main(int argc, char **argv)
{
	printf("Hello from ingot!\n");
	return 0;
}
