/*
 * Build-time options of every library, with their defaults.  An application
 * overrides one by defining it in apps/APP/options.h, or for one build on
 * make's command line (make build/kvm/APP.kvm CONFIG_NET_PKTS=256, which wins
 * over the app's file); the build compiles each application's libraries,
 * platform and own files under that application's options, and the test
 * images under these defaults.  Sizes are fixed here so that nothing on a
 * hot path allocates; every constraint on a value is checked below, so a bad
 * one fails the build instead of the guest.
 */
#ifndef INGOT_OPTIONS_H
#define INGOT_OPTIONS_H

#include <ingot/abi.h> /* INGOT_NET_RING_MAX */

/* --- sched --------------------------------------------------------------- */

/* Fibers that may exist at once, the boot fiber (ingot_main) included.  Each
 * but the boot fiber has a stack of CONFIG_SCHED_STACK_SIZE reserved at start
 * of day. */
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

/* Functions sched_on_report() registers (run on SIGUSR1 and at exit). */
#ifndef CONFIG_SCHED_REPORTERS_MAX
#define CONFIG_SCHED_REPORTERS_MAX 8
#endif

#if CONFIG_SCHED_FIBERS_MAX < 1
#error "CONFIG_SCHED_FIBERS_MAX must be at least 1 (the boot fiber)"
#endif
#if CONFIG_SCHED_STACK_SIZE < 4096 || CONFIG_SCHED_STACK_SIZE % 4096 != 0
#error "CONFIG_SCHED_STACK_SIZE must be a positive multiple of 4096"
#endif
#if CONFIG_SCHED_TIMERS_MAX < CONFIG_SCHED_FIBERS_MAX
#error "CONFIG_SCHED_TIMERS_MAX must allow every fiber to sleep at once"
#endif
#if CONFIG_SCHED_POLLERS_MAX < 1
#error "CONFIG_SCHED_POLLERS_MAX must be at least 1 (a device has one)"
#endif
#if CONFIG_SCHED_REPORTERS_MAX < 1
#error "CONFIG_SCHED_REPORTERS_MAX must be at least 1"
#endif

/* --- libc ---------------------------------------------------------------- */

/* Bytes of stdout kept before a flush; stdout also flushes at each newline. */
#ifndef CONFIG_LIBC_STDOUT_BUFFER
#define CONFIG_LIBC_STDOUT_BUFFER 1024
#endif

#if CONFIG_LIBC_STDOUT_BUFFER < 1
#error "CONFIG_LIBC_STDOUT_BUFFER must be at least 1"
#endif

/* --- net ----------------------------------------------------------------- */

/* Packet buffers of NET_PKT_SIZE (2 KiB) each, reserved at start of day: the
 * largest single reservation of a network app. */
#ifndef CONFIG_NET_PKTS
#define CONFIG_NET_PKTS 1024
#endif

/* Slots of each ring, each way, per interface: the most frames one exit to
 * the host moves each way.  A power of two, and at most: an interface's
 * rings are halved until the pool holds four rings' worth for every
 * interface (a full RX ring refilled while the frames it delivered wait for
 * the app, and as many again on the TX ring and its queue). */
#ifndef CONFIG_NET_RING_SLOTS
#define CONFIG_NET_RING_SLOTS 256
#endif

/* Whether to take TSO when the host offers it (abi.h): 64 KiB TCP frames
 * both ways.  An app of small messages (DNS) gains nothing by it, and each
 * host read then offers the kernel 33 buffers instead of one. */
#ifndef CONFIG_NET_TSO
#define CONFIG_NET_TSO 1
#endif

/* Frames waiting for room on a TX ring. */
#ifndef CONFIG_NET_TXQ_MAX
#define CONFIG_NET_TXQ_MAX 512
#endif

#ifndef CONFIG_NET_ARP_ENTRIES
#define CONFIG_NET_ARP_ENTRIES 64
#endif

/* Datagrams in reassembly at once, 64 KiB of buffer each. */
#ifndef CONFIG_NET_REASS_SLOTS
#define CONFIG_NET_REASS_SLOTS 4
#endif

#ifndef CONFIG_NET_REASS_TIMEOUT_MS
#define CONFIG_NET_REASS_TIMEOUT_MS 5000
#endif

/* ICMP errors sent per second at most; 0 sends none. */
#ifndef CONFIG_NET_ICMP_ERRORS_PER_S
#define CONFIG_NET_ICMP_ERRORS_PER_S 100
#endif

#ifndef CONFIG_NET_UDP_SOCKETS
#define CONFIG_NET_UDP_SOCKETS 16
#endif

/* Datagrams waiting per socket. */
#ifndef CONFIG_NET_UDP_QUEUE
#define CONFIG_NET_UDP_QUEUE 256
#endif

/* IPv4 forwarding between the interfaces (a router, a firewall): packets
 * for other hosts are routed on instead of dropped.  With CONFIG_NET_TSO
 * (taken only where every interface offers it), TCP segments the host
 * coalesced are forwarded whole, to be cut again by the next host. */
#ifndef CONFIG_NET_FORWARD
#define CONFIG_NET_FORWARD 0
#endif

/* Static routes, compiled in: items separated by spaces, each
 * "PREFIX/LEN,via=ADDR", "PREFIX/LEN,dev=NAME" or "default,via=ADDR"; the
 * image's --route=ITEM arguments add to them (lib/net/route.c). */
#ifndef CONFIG_NET_ROUTES
#define CONFIG_NET_ROUTES ""
#endif

/* Source NAT (masquerade) for what is forwarded out of the interface of
 * this name ("": none; the image's --masquerade=NAME overrides it), and
 * the translations it keeps at most (lib/net/nat.c). */
#ifndef CONFIG_NET_MASQUERADE
#define CONFIG_NET_MASQUERADE ""
#endif
#ifndef CONFIG_NET_NAT_ENTRIES
#define CONFIG_NET_NAT_ENTRIES 4096
#endif

/* The address: "dhcp", or "ADDR/PREFIX"; the image's --ipv4 overrides it. */
#ifndef CONFIG_NET_IPV4
#define CONFIG_NET_IPV4 "dhcp"
#endif

/* The default route, "" for none; --ipv4-gateway overrides it. */
#ifndef CONFIG_NET_IPV4_GATEWAY
#define CONFIG_NET_IPV4_GATEWAY ""
#endif

/* --- net: TCP (include/ingot/tcp.h) --------------------------------------- */

/* Connections at once, listeners' embryonic ones and TIME_WAIT included;
 * a fixed pool reserved at start of day (tcp.h gives the bytes of one). */
#ifndef CONFIG_NET_TCP_CONNS
#define CONFIG_NET_TCP_CONNS 256
#endif

/* Ports listened on at once. */
#ifndef CONFIG_NET_TCP_LISTENERS
#define CONFIG_NET_TCP_LISTENERS 8
#endif

/* Bytes a connection may hold received and unread (its receive window). */
#ifndef CONFIG_NET_TCP_RCVBUF
#define CONFIG_NET_TCP_RCVBUF (64 * 1024)
#endif

/* Bytes a connection may hold written and not yet acknowledged. */
#ifndef CONFIG_NET_TCP_SNDBUF
#define CONFIG_NET_TCP_SNDBUF (64 * 1024)
#endif

/* Buffers of data kept out of order per connection, beyond what is
 * missing (a coalesced 64 KiB frame comes in 33). */
#ifndef CONFIG_NET_TCP_OOO_MAX
#define CONFIG_NET_TCP_OOO_MAX 64
#endif

/* Packets of the pool kept back from new connections and out-of-order
 * data, so that established connections keep sending and receiving. */
#ifndef CONFIG_NET_TCP_RESERVE_PKTS
#define CONFIG_NET_TCP_RESERVE_PKTS (CONFIG_NET_PKTS / 8)
#endif

/* How long a closed connection stays in TIME_WAIT (2 MSL; Linux's 60 s). */
#ifndef CONFIG_NET_TCP_TIME_WAIT_MS
#define CONFIG_NET_TCP_TIME_WAIT_MS 60000
#endif

/* Keepalive (RFC 9293 3.8.4): idle time before the first probe, 0 for none;
 * then probes every interval, the connection reset after the count. */
#ifndef CONFIG_NET_TCP_KEEPALIVE_MS
#define CONFIG_NET_TCP_KEEPALIVE_MS 0
#endif
#ifndef CONFIG_NET_TCP_KEEPALIVE_INTVL_MS
#define CONFIG_NET_TCP_KEEPALIVE_INTVL_MS 75000
#endif
#ifndef CONFIG_NET_TCP_KEEPALIVE_PROBES
#define CONFIG_NET_TCP_KEEPALIVE_PROBES 9
#endif

/* Congestion control: 1 NewReno (RFC 5681, RFC 6582), 2 CUBIC (RFC 9438,
 * Linux's default). */
#ifndef CONFIG_NET_TCP_CC
#define CONFIG_NET_TCP_CC 2
#endif

#if CONFIG_NET_RING_SLOTS < 8 || CONFIG_NET_RING_SLOTS > INGOT_NET_RING_MAX || \
    (CONFIG_NET_RING_SLOTS & (CONFIG_NET_RING_SLOTS - 1)) != 0
#error "CONFIG_NET_RING_SLOTS must be a power of two from 8 to 1024"
#endif
#if CONFIG_NET_PKTS < 4 * 8
#error "CONFIG_NET_PKTS must be at least 32 (four rings of the smallest size)"
#endif
#if CONFIG_NET_TXQ_MAX < 0
#error "CONFIG_NET_TXQ_MAX must not be negative"
#endif
#if CONFIG_NET_ARP_ENTRIES < 1
#error "CONFIG_NET_ARP_ENTRIES must be at least 1"
#endif
#if CONFIG_NET_REASS_SLOTS < 1
#error "CONFIG_NET_REASS_SLOTS must be at least 1"
#endif
#if CONFIG_NET_REASS_TIMEOUT_MS < 1
#error "CONFIG_NET_REASS_TIMEOUT_MS must be at least 1"
#endif
#if CONFIG_NET_ICMP_ERRORS_PER_S < 0
#error "CONFIG_NET_ICMP_ERRORS_PER_S must not be negative"
#endif
#if CONFIG_NET_UDP_SOCKETS < 1
#error "CONFIG_NET_UDP_SOCKETS must be at least 1"
#endif
#if CONFIG_NET_UDP_QUEUE < 1
#error "CONFIG_NET_UDP_QUEUE must be at least 1"
#endif

#if CONFIG_NET_TCP_CONNS < 1 || CONFIG_NET_TCP_CONNS > 65535
#error "CONFIG_NET_TCP_CONNS must be from 1 to 65535"
#endif
#if CONFIG_NET_TCP_LISTENERS < 1
#error "CONFIG_NET_TCP_LISTENERS must be at least 1"
#endif
#if CONFIG_NET_TCP_RCVBUF < 4096 || CONFIG_NET_TCP_RCVBUF > (1 << 30)
#error "CONFIG_NET_TCP_RCVBUF must be from 4096 to 1 GiB"
#endif
#if CONFIG_NET_TCP_SNDBUF < 4096 || CONFIG_NET_TCP_SNDBUF > (1 << 30)
#error "CONFIG_NET_TCP_SNDBUF must be from 4096 to 1 GiB"
#endif
#if CONFIG_NET_TCP_OOO_MAX < 0
#error "CONFIG_NET_TCP_OOO_MAX must not be negative"
#endif
#if CONFIG_NET_TCP_RESERVE_PKTS < 0 ||                                         \
    CONFIG_NET_TCP_RESERVE_PKTS >= CONFIG_NET_PKTS
#error "CONFIG_NET_TCP_RESERVE_PKTS must be from 0 to CONFIG_NET_PKTS - 1"
#endif
#if CONFIG_NET_TCP_TIME_WAIT_MS < 1
#error "CONFIG_NET_TCP_TIME_WAIT_MS must be at least 1"
#endif
#if CONFIG_NET_TCP_KEEPALIVE_MS < 0 ||                                         \
    CONFIG_NET_TCP_KEEPALIVE_INTVL_MS < 1 ||                                   \
    CONFIG_NET_TCP_KEEPALIVE_PROBES < 1
#error "CONFIG_NET_TCP_KEEPALIVE_*: idle >= 0, interval and probes >= 1"
#endif
#if CONFIG_NET_TSO != 0 && CONFIG_NET_TSO != 1
#error "CONFIG_NET_TSO must be 0 or 1"
#endif
#if CONFIG_NET_FORWARD != 0 && CONFIG_NET_FORWARD != 1
#error "CONFIG_NET_FORWARD must be 0 or 1"
#endif
#if CONFIG_NET_NAT_ENTRIES < 1 || CONFIG_NET_NAT_ENTRIES > 28232
#error "CONFIG_NET_NAT_ENTRIES must be from 1 to 28232 (ports 32768-60999)"
#endif
#if CONFIG_NET_TCP_CC != 1 && CONFIG_NET_TCP_CC != 2
#error "CONFIG_NET_TCP_CC must be 1 (NewReno) or 2 (CUBIC)"
#endif

/* --- apps/dns ------------------------------------------------------------ */

/* DNS over TCP: connections served at once (each a fiber and a 64 KiB
 * buffer), and how long one may stay idle before the server closes it. */
#ifndef CONFIG_DNS_TCP_CONNS
#define CONFIG_DNS_TCP_CONNS 8
#endif
#ifndef CONFIG_DNS_TCP_IDLE_MS
#define CONFIG_DNS_TCP_IDLE_MS 10000
#endif

#if CONFIG_DNS_TCP_CONNS < 1
#error "CONFIG_DNS_TCP_CONNS must be at least 1"
#endif
#if CONFIG_DNS_TCP_IDLE_MS < 1
#error "CONFIG_DNS_TCP_IDLE_MS must be at least 1"
#endif

/* --- apps/http ------------------------------------------------------------ */

/* Connections served at once, each a fiber (apps/http/options.h sizes the
 * fibers and TCP's pool from it); one more is answered 503 and closed. */
#ifndef CONFIG_HTTP_CONNS
#define CONFIG_HTTP_CONNS 10240
#endif

/* Fibers kept for answering 503 to connections past CONFIG_HTTP_CONNS. */
#ifndef CONFIG_HTTP_REFUSERS
#define CONFIG_HTTP_REFUSERS 8
#endif

/* The TCP port; the image's --port=N overrides it. */
#ifndef CONFIG_HTTP_PORT
#define CONFIG_HTTP_PORT 80
#endif

/* Limits of a request's head: the request line (414 past it), the header
 * section's bytes and lines (431 past them); and of a body a GET or HEAD
 * carries, which is read and discarded (413 past it). */
#ifndef CONFIG_HTTP_LINE_MAX
#define CONFIG_HTTP_LINE_MAX 8192
#endif
#ifndef CONFIG_HTTP_FIELDS_MAX
#define CONFIG_HTTP_FIELDS_MAX 8192
#endif
#ifndef CONFIG_HTTP_FIELDS_COUNT
#define CONFIG_HTTP_FIELDS_COUNT 100
#endif
#ifndef CONFIG_HTTP_BODY_MAX
#define CONFIG_HTTP_BODY_MAX (1024 * 1024)
#endif

/* Timeouts (the image's --idle-ms=, --header-ms=, --send-ms= override
 * them): a kept-alive connection with no request; a whole head from its
 * first byte, and a body from the head (408 past it: slowloris); a write
 * that makes no progress; and how long a closing connection is drained
 * so that the peer reads the last answer before any reset. */
#ifndef CONFIG_HTTP_IDLE_MS
#define CONFIG_HTTP_IDLE_MS 60000
#endif
#ifndef CONFIG_HTTP_HEADER_MS
#define CONFIG_HTTP_HEADER_MS 10000
#endif
#ifndef CONFIG_HTTP_SEND_MS
#define CONFIG_HTTP_SEND_MS 60000
#endif
#ifndef CONFIG_HTTP_LINGER_MS
#define CONFIG_HTTP_LINGER_MS 2000
#endif

/* 1: a line per request on the console (off: it costs a write per request). */
#ifndef CONFIG_HTTP_ACCESS_LOG
#define CONFIG_HTTP_ACCESS_LOG 0
#endif

/* 1: /.well-known/ingot/metrics serves the counters (Prometheus text). */
#ifndef CONFIG_HTTP_METRICS
#define CONFIG_HTTP_METRICS 0
#endif

#if CONFIG_HTTP_CONNS < 1 || CONFIG_HTTP_REFUSERS < 0
#error "CONFIG_HTTP_CONNS must be at least 1, CONFIG_HTTP_REFUSERS not negative"
#endif
#if CONFIG_HTTP_PORT < 1 || CONFIG_HTTP_PORT > 65535
#error "CONFIG_HTTP_PORT must be from 1 to 65535"
#endif
#if CONFIG_HTTP_LINE_MAX < 64 || CONFIG_HTTP_LINE_MAX > (1 << 20) ||           \
    CONFIG_HTTP_FIELDS_MAX < 64 || CONFIG_HTTP_FIELDS_MAX > (1 << 20)
#error "CONFIG_HTTP_LINE_MAX, CONFIG_HTTP_FIELDS_MAX: from 64 to 1 MiB"
#endif
#if CONFIG_HTTP_FIELDS_COUNT < 1
#error "CONFIG_HTTP_FIELDS_COUNT must be at least 1"
#endif
#if CONFIG_HTTP_BODY_MAX < 0 || CONFIG_HTTP_BODY_MAX > (1 << 30)
#error "CONFIG_HTTP_BODY_MAX must be from 0 to 1 GiB"
#endif
#if CONFIG_HTTP_IDLE_MS < 1 || CONFIG_HTTP_HEADER_MS < 1 ||                    \
    CONFIG_HTTP_SEND_MS < 1 || CONFIG_HTTP_LINGER_MS < 0
#error "CONFIG_HTTP_*_MS: the timeouts must be at least 1 (linger: 0)"
#endif
#if CONFIG_HTTP_ACCESS_LOG != 0 && CONFIG_HTTP_ACCESS_LOG != 1
#error "CONFIG_HTTP_ACCESS_LOG must be 0 or 1"
#endif
#if CONFIG_HTTP_METRICS != 0 && CONFIG_HTTP_METRICS != 1
#error "CONFIG_HTTP_METRICS must be 0 or 1"
#endif

/* --- lib/blk -------------------------------------------------------------- */

/* Requests in flight per block device (its ring's slots, 32 bytes each): a
 * power of two up to INGOT_BLOCK_RING_MAX. */
#ifndef CONFIG_BLK_RING_SLOTS
#define CONFIG_BLK_RING_SLOTS 128
#endif

#if CONFIG_BLK_RING_SLOTS < 2 ||                                               \
    CONFIG_BLK_RING_SLOTS > INGOT_BLOCK_RING_MAX ||                            \
    (CONFIG_BLK_RING_SLOTS & (CONFIG_BLK_RING_SLOTS - 1))
#error "CONFIG_BLK_RING_SLOTS must be a power of two, 2..INGOT_BLOCK_RING_MAX"
#endif

/* --- lib/fw --------------------------------------------------------------- */

/* Flows the firewall tracks at once (88 bytes each, static); when full, a
 * new flow replaces the oldest unassured one, else it is refused
 * (ingot/fw.h). */
#ifndef CONFIG_FW_FLOWS
#define CONFIG_FW_FLOWS 8192
#endif

#if CONFIG_FW_FLOWS < 16 || CONFIG_FW_FLOWS > (1 << 24)
#error "CONFIG_FW_FLOWS must be from 16 to 16777216"
#endif

#endif
