/* The platform-independent end of start of day. */
#include <ingot/abi.h>
#include <stdio.h>
#include <stdlib.h>

#include "boot.h"

extern const ingot_init_fn __ingot_init_start[], __ingot_init_end[];

void boot_run(int argc, char **argv)
{
	char msg[96];
	int rc;

	for (const ingot_init_fn *f = __ingot_init_start; f < __ingot_init_end;
	     f++) {
		rc = (*f)();
		if (rc < 0) {
			int n =
			    snprintf(msg, sizeof msg,
				     "start-of-day hook %p failed: error %d",
				     (void *)*f, rc);
			ingot_abort(msg, n);
		}
	}
	rc = ingot_seal();
	if (rc < 0) {
		int n = snprintf(msg, sizeof msg, "cannot seal: error %d", rc);
		ingot_abort(msg, n);
	}
	/* Returning from main is exit(): stdout is flushed. */
	exit(ingot_main(argc, argv));
}

bool boot_protect_ok(uintptr_t a, size_t len, int prot)
{
	const struct ingot_boot_info *bi = ingot_boot_info();
	if (prot != INGOT_PROT_NONE && prot != INGOT_PROT_READ &&
	    prot != INGOT_PROT_RW)
		return false;
	return a % INGOT_PAGE_SIZE == 0 && len % INGOT_PAGE_SIZE == 0 && len &&
	       a >= bi->heap_start && len <= bi->heap_size &&
	       a - bi->heap_start <= bi->heap_size - len;
}
