/*
 * A protection asked for before the seal holds after it on a page the guest
 * had already written (so the host may hold a translation from before):
 * argv[1] "small" takes a page of an ordinary allocation, "large" one in
 * the middle of a 2 MiB-aligned block (a large page until the request
 * splits it).  Writing the page after the seal must fault.
 */
#include <ingot/abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LARGE (2UL << 20)

static volatile char *page;

static int touch_then_protect(void)
{
	const struct ingot_boot_info *bi = ingot_boot_info();
	bool large = bi->argc > 1 && strcmp(bi->argv[1], "large") == 0;
	char *p = large ? aligned_alloc(LARGE, LARGE)
			: aligned_alloc(INGOT_PAGE_SIZE, INGOT_PAGE_SIZE);

	if (!p)
		return -1;
	page = large ? p + LARGE / 2 : p;
	page[0] = 1;
	return ingot_mem_protect((void *)page, INGOT_PAGE_SIZE,
				 INGOT_PROT_READ);
}
INGOT_INIT(touch_then_protect);

int ingot_main(int argc, char **argv)
{
	printf("read %d before writing\n", page[0]);
	page[0] = 2;
	printf("the read-only page took a write\n");
	return 1;
}
