/*
 * Build options of the DNS appliance (defaults and rules: ingot/options.h).
 * Sized so that the image serves at its full rate in --mem 4M and serves at
 * all in 2M: about 1.6 MiB of heap in all, most of it the packet pool and
 * the TCP connections' buffers.
 */
#ifndef APPS_DNS_OPTIONS_H
#define APPS_DNS_OPTIONS_H

/* Each query is answered in its own packet.  dnsperf's 200 queries in
 * flight arrive in batches of up to about 127 frames per exit, so 128 ring
 * slots keep the batches whole; the pool is the four rings' worth that
 * rings of 128 slots need (ingot/options.h), 1 MiB. */
#define CONFIG_NET_RING_SLOTS 128
/* Queries and answers are small: no TSO (options.h says why). */
#define CONFIG_NET_TSO  0
#define CONFIG_NET_PKTS 512

/* Queries come in one datagram; a fragmented one is rare enough to
 * reassemble one at a time (64 KiB). */
#define CONFIG_NET_REASS_SLOTS 1

/* ingot_main answers UDP on the boot stack; the other fibers are the DHCP
 * client's, whose deepest path (a reply through the stack and printf) takes
 * a few KiB, the TCP acceptor's and one per TCP connection. */
#define CONFIG_DNS_TCP_CONNS    4
#define CONFIG_SCHED_FIBERS_MAX (3 + CONFIG_DNS_TCP_CONNS)
#define CONFIG_SCHED_STACK_SIZE (16 * 1024)

/* TCP: the connections served, those the acceptor closes when all are
 * busy, and those in TIME_WAIT; each holds at most 16 KiB either way (a
 * DNS message is at most 64 KiB and leaves in pieces as it is read). */
#define CONFIG_NET_TCP_CONNS  32
#define CONFIG_NET_TCP_RCVBUF (16 * 1024)
#define CONFIG_NET_TCP_SNDBUF (16 * 1024)

#endif
