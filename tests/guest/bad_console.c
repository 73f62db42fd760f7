/* Hands the console a buffer outside guest memory through the ABI call:
 * every target must stop the guest (abi.h), not write or crash. */
#include <ingot/abi.h>
#include <stdio.h>

int ingot_main(int argc, char **argv)
{
	printf("writing from address 16\n");
	ingot_console_write((const char *)16, 64);
	printf("the host accepted a bad buffer\n");
	return 1;
}
