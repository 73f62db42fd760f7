/*
 * Misuses a packet buffer as argv[1] says (the other arguments are the
 * stack's: --ipv4=...); the stack must stop the guest (an assertion: these
 * are bugs, not input).  "none" uses a buffer properly and exits 0, so the
 * other cases fail for their misuse only.
 *   double-free  pkt_free() twice
 *   foreign      pkt_free() of a struct pkt the pool did not make
 *   push         a header larger than the headroom
 *   pull         more bytes than the packet holds
 */
#include <ingot/abi.h>
#include <ingot/net.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/net/net_internal.h"

INGOT_DEVICE(INGOT_DEVICE_NET, service);

int ingot_main(int argc, char **argv)
{
	const char *misuse = argc >= 2 ? argv[1] : "";
	if (net_start(argc, argv) < 0)
		return 2;
	unsigned before = pkt_pool_in_use();
	struct pkt *p = pkt_alloc();
	if (!p)
		return 2;
	if (strcmp(misuse, "none") == 0) {
		pkt_push(p, NET_PKT_HEADROOM);
		pkt_pull(p, NET_PKT_HEADROOM);
		pkt_free(p);
		return pkt_pool_in_use() == before ? 0 : 3;
	}
	if (strcmp(misuse, "double-free") == 0) {
		pkt_free(p);
		pkt_free(p);
	} else if (strcmp(misuse, "foreign") == 0) {
		struct pkt_meta mine = {.pkt = *p};
		pkt_free(&mine.pkt);
	} else if (strcmp(misuse, "push") == 0) {
		pkt_push(p, NET_PKT_HEADROOM + 1);
	} else if (strcmp(misuse, "pull") == 0) {
		pkt_pull(p, 1);
	} else {
		fprintf(stderr, "usage: pkt_misuse none|double-free|foreign|"
				"push|pull\n");
		return 2;
	}
	printf("pkt_misuse: %s survived\n", misuse);
	return 1;
}
