/*
 * echo: answers ping, and echoes UDP datagrams on port 7 (RFC 862).
 *
 *   ingot-kvm --net service=TAP build/kvm/echo.kvm [--ipv4=ADDR/PREFIX]
 *       [--ipv4-gateway=ADDR] [--exit-after=N]
 *
 * Datagrams are turned around in place (the received packet is the reply)
 * unless they arrived in fragments, which are copied out again.  With
 * --exit-after=N the guest prints its counters and exits after N datagrams
 * (for tests); otherwise it serves until stopped (SIGTERM to the host).
 * The network counters print at exit and on SIGUSR1.
 */
#include <errno.h>
#include <ingot/abi.h>
#include <ingot/net.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_NET, service);

#define ECHO_PORT 7

int ingot_main(int argc, char **argv)
{
	unsigned long exit_after = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			continue; /* the usual end of options (net.h) */
		if (strncmp(argv[i], "--exit-after=", 13) == 0) {
			char *end;
			exit_after = strtoul(argv[i] + 13, &end, 10);
			if (*end || !exit_after) {
				fprintf(stderr, "echo: bad %s\n", argv[i]);
				return 2;
			}
		} else if (strncmp(argv[i], "--ipv4", 6) != 0) {
			fprintf(stderr,
				"usage: echo [--ipv4=ADDR/PREFIX|dhcp] "
				"[--ipv4-gateway=ADDR] [--exit-after=N]\n");
			return 2;
		}
	}
	if (net_start(argc, argv) < 0)
		return 1;
	int err;
	struct udp_sock *s = udp_open(ECHO_PORT, &err);
	if (!s) {
		fprintf(stderr, "echo: udp port %d: %s\n", ECHO_PORT,
			strerror(-err));
		return 1;
	}
	printf("echo: serving UDP port %d\n", ECHO_PORT);
	fflush(stdout);
	for (unsigned long n = 0; !exit_after || n < exit_after; n++) {
		struct net_addr from;
		struct pkt *p = udp_recv_pkt(s, &from, UINT64_MAX);
		if (p)
			udp_send_pkt(s, p, &from);
	}
	/* Let the last replies leave; the counters print at exit. */
	sched_sleep(10 * 1000000ULL);
	return 0;
}
