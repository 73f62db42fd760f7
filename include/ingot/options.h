/*
 * Build-time options of every library, with their defaults.  An application
 * overrides one by defining it in apps/APP/options.h, which the build
 * includes before this file when compiling that application's libraries.
 * Sizes are fixed here so that nothing on a hot path allocates.
 */
#ifndef INGOT_OPTIONS_H
#define INGOT_OPTIONS_H

/* --- sched --------------------------------------------------------------- */

/* Fibers that may exist at once, the boot fiber (ingot_main) included. */
#ifndef CONFIG_SCHED_FIBERS_MAX
#define CONFIG_SCHED_FIBERS_MAX 16
#endif

/* Stack bytes per fiber, excluding its guard page.  A multiple of 4096. */
#ifndef CONFIG_SCHED_STACK_SIZE
#define CONFIG_SCHED_STACK_SIZE (64 * 1024)
#endif

/* Timers armed at once (sleeping fibers and waits with a deadline count). */
#ifndef CONFIG_SCHED_TIMERS_MAX
#define CONFIG_SCHED_TIMERS_MAX 256
#endif

/* Device pollers the event loop runs every turn. */
#ifndef CONFIG_SCHED_POLLERS_MAX
#define CONFIG_SCHED_POLLERS_MAX 8
#endif

#if CONFIG_SCHED_STACK_SIZE % 4096 != 0
#error "CONFIG_SCHED_STACK_SIZE must be a multiple of 4096"
#endif
#if CONFIG_SCHED_FIBERS_MAX < 1
#error "CONFIG_SCHED_FIBERS_MAX must be at least 1 (the boot fiber)"
#endif
#if CONFIG_SCHED_TIMERS_MAX < CONFIG_SCHED_FIBERS_MAX
#error "CONFIG_SCHED_TIMERS_MAX must allow every fiber to sleep at once"
#endif

/* --- libc ---------------------------------------------------------------- */

/* Bytes of stdout kept before a flush; stdout also flushes at each newline. */
#ifndef CONFIG_LIBC_STDOUT_BUFFER
#define CONFIG_LIBC_STDOUT_BUFFER 1024
#endif

#ifndef CONFIG_SCHED_REPORTERS_MAX
#define CONFIG_SCHED_REPORTERS_MAX 8 /* sched_on_report() functions */
#endif

/* --- net ----------------------------------------------------------------- */
#ifndef CONFIG_NET_PKTS
#define CONFIG_NET_PKTS 1024 /* packet buffers of NET_PKT_SIZE bytes, at most */
#endif
#ifndef CONFIG_NET_RING_SLOTS
#define CONFIG_NET_RING_SLOTS 256 /* per ring, each way, per interface, at most */
#endif
#ifndef CONFIG_NET_TXQ_MAX
#define CONFIG_NET_TXQ_MAX 512 /* frames waiting for room on a TX ring */
#endif
#ifndef CONFIG_NET_ARP_ENTRIES
#define CONFIG_NET_ARP_ENTRIES 64
#endif
#ifndef CONFIG_NET_REASS_SLOTS
#define CONFIG_NET_REASS_SLOTS 4 /* datagrams in reassembly, 64 KiB each */
#endif
#ifndef CONFIG_NET_REASS_TIMEOUT_MS
#define CONFIG_NET_REASS_TIMEOUT_MS 5000
#endif
#ifndef CONFIG_NET_ICMP_ERRORS_PER_S
#define CONFIG_NET_ICMP_ERRORS_PER_S 100
#endif
#ifndef CONFIG_NET_UDP_SOCKETS
#define CONFIG_NET_UDP_SOCKETS 16
#endif
#ifndef CONFIG_NET_UDP_QUEUE
#define CONFIG_NET_UDP_QUEUE 256 /* datagrams waiting per socket */
#endif
#ifndef CONFIG_NET_IPV4
#define CONFIG_NET_IPV4 "dhcp" /* or "ADDR/PREFIX" */
#endif
#ifndef CONFIG_NET_IPV4_GATEWAY
#define CONFIG_NET_IPV4_GATEWAY "" /* none */
#endif

#endif
