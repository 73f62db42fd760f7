/*
 * Build options of the HTTP appliance (defaults and rules: ingot/options.h).
 *
 * A connection is a fiber blocked in tcp_read: its cost while idle is the
 * stack pages it has touched (two 4 KiB pages: the head's first KiB and
 * the answer's buffer live on the stack, a longer head borrows 16 KiB of
 * heap while it is read), TCP's connection struct and the fiber's and
 * timer's bookkeeping, about 9 KiB in all (README, "The HTTP appliance").
 * Untouched stack pages and the guard pages cost address space only; the
 * stacks of CONFIG_HTTP_CONNS connections take 16 KiB of it each, so the
 * default 10,240 connections want --mem 256M.
 */
#ifndef APPS_HTTP_OPTIONS_H
#define APPS_HTTP_OPTIONS_H

/* main, the acceptor, the DHCP client and a spare, then a fiber per
 * connection and per refusal; every fiber may wait with a deadline. */
#define CONFIG_SCHED_FIBERS_MAX                                                \
	(CONFIG_HTTP_CONNS + CONFIG_HTTP_REFUSERS + 4)
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

#endif
