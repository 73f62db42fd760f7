/*
 * dns: an authoritative DNS server for the zones compiled into the image
 * (tools/zone2c; make build/kvm/dns.kvm ZONES="a.zone b.zone").
 *
 *   ingot-kvm --net service=TAP build/kvm/dns.kvm [--ipv4=ADDR/PREFIX]
 *       [--ipv4-gateway=ADDR]
 *
 * Answers UDP on port 53, each query turned around in its own packet, and
 * TCP on port 53 (dns_tcp.c).  Counters (queries by type and rcode, drops,
 * TCP connections) print at exit and on SIGUSR1.
 */
#include <ingot/abi.h>
#include <ingot/dns.h>
#include <ingot/net.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_app.h"

INGOT_DEVICE(INGOT_DEVICE_NET, service);

#define DNS_PORT 53

int ingot_main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") != 0 /* net.h */ &&
		    strncmp(argv[i], "--ipv4", 6) != 0) {
			fprintf(stderr, "usage: dns [--ipv4=ADDR/PREFIX|dhcp] "
					"[--ipv4-gateway=ADDR]\n");
			return 2;
		}
	if (net_start(argc, argv) < 0)
		return 1;
	atexit(dns_print_counters);
	sched_on_report(dns_print_counters);
	int err;
	struct udp_sock *s = udp_open(DNS_PORT, &err);
	if (!s) {
		fprintf(stderr, "dns: udp port %d: %s\n", DNS_PORT,
			strerror(-err));
		return 1;
	}
	atexit(dns_tcp_print_counters);
	sched_on_report(dns_tcp_print_counters);
	err = dns_tcp_start(DNS_PORT);
	if (err < 0) {
		fprintf(stderr, "dns: tcp port %d: %s\n", DNS_PORT,
			strerror(-err));
		return 1;
	}
	printf("dns: serving TCP port %d\n", DNS_PORT);
	printf("dns: serving UDP port %d\n", DNS_PORT);
	fflush(stdout);
	static uint8_t copy[DNS_UDP_MAX];
	for (;;) {
		struct net_addr from;
		struct pkt *p = udp_recv_pkt(s, &from, UINT64_MAX);
		if (!p)
			continue;
		size_t room = pkt_tailroom(p);
		if (room >= DNS_UDP_MAX) {
			p->len = (uint32_t)dns_answer(p->data, p->len, p->data,
						      DNS_UDP_MAX, false);
			if (p->len)
				udp_send_pkt(s, p, &from);
			else
				pkt_free(p);
		} else { /* a reassembled query: answer from a copy */
			size_t n = dns_answer(p->data, p->len, copy,
					      sizeof copy, false);
			pkt_free(p);
			if (n)
				udp_sendto(s, copy, n, &from);
		}
	}
}
