/*
 * Build options of the HTTP appliance (defaults and rules: ingot/options.h).
 *
 * A connection is a fiber blocked in tcp_read: while idle it costs the
 * stack pages it has touched (the head's first KiB and the answer's buffer
 * live on the stack; a longer head borrows HTTP_BIG bytes of heap while it
 * is read), TCP's connection struct (360 bytes) and the fiber's and its
 * timer's bookkeeping: 4.6 KiB of guest memory per idle connection as
 * tests/test_http.py measures it with 10,000 held.  Untouched stack pages
 * and the guard pages cost address space only: 16 KiB per connection, so
 * the default 10,240 connections want --mem 256M.
 */
#ifndef APPS_HTTP_OPTIONS_H
#define APPS_HTTP_OPTIONS_H

/* main, the acceptor, the DHCP client and a spare, then a fiber per
 * connection and per refusal; every fiber may wait with a deadline. */
#define CONFIG_SCHED_FIBERS_MAX (CONFIG_HTTP_CONNS + CONFIG_HTTP_REFUSERS + 4)
#define CONFIG_SCHED_STACK_SIZE (12 * 1024)
#define CONFIG_SCHED_TIMERS_MAX (CONFIG_SCHED_FIBERS_MAX + 64)

/* TCP: the connections served, those refused and half again for TIME_WAIT
 * (recycled when the pool is full); 360 bytes each. */
#define CONFIG_NET_TCP_CONNS                                                   \
	(CONFIG_HTTP_CONNS + CONFIG_HTTP_CONNS / 2 + CONFIG_HTTP_REFUSERS + 64)
#define CONFIG_NET_TCP_LISTENERS 2

/* Packets: 8 MiB; an idle connection holds none.  Requests are small, so
 * the receive window need not be large. */
#define CONFIG_NET_PKTS       4096
#define CONFIG_NET_TCP_RCVBUF (16 * 1024)
/* Bodies are image data, queued by reference a packet per 64 KiB (tcp.h):
 * a send buffer of 128 KiB takes a 100 KiB file whole, with no round trip
 * waiting for room halfway (bench/RESULTS.md), for 3 packets. */
#define CONFIG_NET_TCP_SNDBUF (128 * 1024)

#endif
