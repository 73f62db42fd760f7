/*
 * A UDP echo client, for tests of two guests talking to each other: sends
 * datagrams of several sizes (fragmented ones included) to --peer=ADDR port
 * 7, checks every echo byte for byte, prints "net_client: N/M echoed" and
 * exits 0 if all M came back intact.
 */
#include <ingot/abi.h>
#include <ingot/net.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_NET, service);

static const size_t sizes[] = {0, 1, 100, 1472, 1473, 4000, 20000, 65507};
static unsigned char out[65507], in[65536];

int ingot_main(int argc, char **argv)
{
	struct net_addr peer = {.port = 7};
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--peer=", 7) == 0 &&
		    net_parse_ipv4(argv[i] + 7, &peer.ip) < 0)
			return 2;
	if (!peer.ip || net_start(argc, argv) < 0 ||
	    net_wait_configured(NULL, sched_now() + 30000000000ULL) < 0) {
		fprintf(stderr, "net_client: no --peer, or no address\n");
		return 2;
	}
	struct udp_sock *s = udp_open(0, NULL);
	unsigned good = 0, n = sizeof sizes / sizeof sizes[0];
	for (unsigned k = 0; k < n; k++) {
		for (size_t i = 0; i < sizes[k]; i++)
			out[i] = (unsigned char)(i * 7 + k);
		for (int attempt = 0; attempt < 5; attempt++) {
			if (udp_sendto(s, out, sizes[k], &peer) < 0) {
				sched_sleep(200000000); /* ARP, say */
				continue;
			}
			struct net_addr from;
			int len = udp_recvfrom(s, in, sizeof in, &from,
					       sched_now() + 1000000000ULL);
			if (len == (int)sizes[k] && from.ip == peer.ip &&
			    memcmp(in, out, sizes[k]) == 0) {
				good++;
				break;
			}
		}
	}
	printf("net_client: %u/%u echoed\n", good, n);
	return good == n ? 0 : 1;
}
