/* Page protections are settable before the seal only: after it, the call
 * fails with -EPERM and nothing changes. */
#include <errno.h>
#include <ingot/abi.h>
#include <stdio.h>
#include <stdlib.h>

int ingot_main(int argc, char **argv)
{
	char *page = aligned_alloc(INGOT_PAGE_SIZE, INGOT_PAGE_SIZE);
	int rc = ingot_mem_protect(page, INGOT_PAGE_SIZE, INGOT_PROT_NONE);
	printf("ingot_mem_protect after seal: %d\n", rc);
	page[0] = 1; /* still writable */
	int again = ingot_seal();
	printf("ingot_seal again: %d\n", again);
	return rc == -EPERM && again == -EPERM ? 0 : 1;
}
