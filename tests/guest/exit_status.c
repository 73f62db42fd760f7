/* Exits with the status in argv[1], to check that a guest cannot give one
 * of the host's own statuses (abi.h, INGOT_EXIT_*) as its own. */
#include <ingot/abi.h>
#include <stdlib.h>

int ingot_main(int argc, char **argv)
{
	return argc > 1 ? (int)strtol(argv[1], NULL, 10) : 0;
}
