/* Raises a software interrupt on a vector no target hands to the guest
 * (past the virtio target's IDT): it must end in a fault report naming
 * the vector, never a silent reset. */
#include <ingot/abi.h>
#include <stdio.h>

int ingot_main(int argc, char **argv)
{
	printf("int $0x50\n");
	fflush(stdout);
	__asm__ volatile("int $0x50");
	printf("int $0x50 returned\n");
	return 1;
}
