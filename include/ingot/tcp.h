/*
 * tcp: TCP (RFC 9293) for fibers, part of lib/net (include/ingot/net.h).
 *
 * What it does: passive and active open, data both ways, FIN and RST in
 * every state, TIME_WAIT; MSS, window scaling and timestamps (RFC 7323),
 * SACK-permitted and SACK blocks from the out-of-order queue (RFC 2018);
 * retransmission timeout per RFC 6298 (Karn, exponential backoff), fast
 * retransmit and NewReno recovery (RFC 5681, RFC 6582); delayed ACKs,
 * Nagle (tcp_set_nodelay), zero-window probes, keepalive; challenge ACKs
 * for RST, SYN and data injection (RFC 5961); initial sequence numbers
 * per RFC 6528 and ephemeral ports per RFC 6056 from a keyed hash seeded
 * from the boot's random seed.
 *
 * Structure: a connection is a struct in a fixed pool (CONFIG_NET_TCP_CONNS),
 * driven by segments and by one timer for the whole pool; it has no fiber.
 * Fibers block on its wait queues in the calls below.  One idle connection
 * costs its struct, 360 bytes on x86_64 (tcp_conn_size() says exactly),
 * and no packet: data waits in pool packets only while it is unread or
 * unacknowledged, at most CONFIG_NET_TCP_RCVBUF and CONFIG_NET_TCP_SNDBUF
 * bytes of payload, each packet (NET_PKT_SIZE) holding up to one MSS
 * (one referring to image data, through an interface with TSO: up to a
 * TSO frame's payload, cut when the window or a resend needs less).
 * Received data stays in the packets it came in (small segments are
 * copied into the previous packet's spare room; a frame the host
 * coalesced arrives over several); written data is copied into packets,
 * or with tcp_write_static referred to where it lies, which go to the TX
 * ring without a copy and stay queued until acknowledged.  Through an
 * interface with TSO (abi.h), consecutive queued segments leave as one
 * frame of up to 64 KiB that the host cuts into segments.  TCP adds 24 bytes to
 * every packet's bookkeeping (struct pkt_meta: 96 bytes), and a listener costs
 * 48 bytes.
 *
 * Memory policy: when the connection pool is full, the TIME_WAIT
 * connection nearest its end is recycled; failing that, or when fewer than
 * CONFIG_NET_TCP_RESERVE_PKTS packets are free, a new connection holds
 * no state (tcp_connect returns -ENOBUFS).  A SYN that finds the pool so,
 * or a listener's backlog full (embryonic connections and those waiting
 * for tcp_accept together), is answered with a SYN cookie (RFC 4987): the
 * connection exists only once the peer's ACK brings the cookie back, with
 * the MSS the cookie encodes and, when the SYN had timestamps, its window
 * scale and SACK-permitted, carried in the low bits of our TSval as
 * Linux's cookies carry them (without timestamps: none of these); a flood
 * of SYNs thus costs no memory and leaves room for real clients (counted
 * as listen_overflow, syn_cookies_sent and _accepted).  The reserve keeps
 * established connections moving: below it, received data is no longer held
 * (out-of-order segments are dropped, a connection's out-of-order queue is
 * pruned when in-order data finds the pool so, and in-order data that still
 * finds no room is dropped unless its connection holds less than 2 packets
 * and three quarters of the reserve are still free; counted as
 * drop_ooo_full, ooo_pruned and drop_no_memory; the peer sends it again),
 * while tcp_write goes on taking packets down to half the reserve and waits
 * below that.  Writes get the deeper share because an application reads on
 * only after it answered (a pipelined request waits behind the previous
 * answer): were received data allowed to take the pool, the writers that
 * would drain it would wait for it for ever.  The last half keeps the RX
 * ring's buffers and our ACKs coming, so that the ACKs that free sent
 * packets still arrive.  So that peers that do not read cannot hold the pool
 * on our send queues and stall every other connection, below the reserve a
 * connection queues no more than its peer's window takes (tcp_write waits
 * for the window instead), and a write that finds the pool at its floor, or
 * received data dropped for want of memory, resets the connection holding
 * the most packets on a send queue its peer's shut window has stalled for
 * 10 s (nothing in flight, nothing sent), one every 100 ms at most
 * (counted as conns_shed).
 *
 * Choices beyond the RFCs (lib/net/tcp_internal.h has the constants):
 * RTO from 1 s, floor 200 ms and ceiling 60 s as Linux has them; 6 SYN
 * and 15 data retransmissions (or unanswered window probes) before the
 * connection is reset with -ETIMEDOUT; delayed ACKs at most 40 ms, every
 * second segment at once; TIME_WAIT CONFIG_NET_TCP_TIME_WAIT_MS (60 s),
 * taken over early by a SYN above its sequence number or recycled when
 * the pool is full; an orphan (closed by the application) waits in
 * FIN_WAIT_2 at most 60 s; initial window 10 segments (RFC 6928); our FIN
 * goes in a segment of its own; SACK blocks are marked on the send queue
 * and drive retransmission in recovery, with NewReno's cwnd; at most 10
 * challenge ACKs per connection per second.  The packets of a connection's
 * send queue are lent to the TX ring (a reference, no copy) and copied
 * only when resent while still lent.
 *
 * Deadlines are monotonic ns (sched_now()), UINT64_MAX for none; errors
 * are negative errno values.  A connection's calls may come from several
 * fibers (one reading, one writing); tcp_close must be the last call.
 */
#ifndef INGOT_TCP_H
#define INGOT_TCP_H

#include <ingot/net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcp_listener;
struct tcp_conn;

/*
 * Listens on port on every interface.  backlog (at least 1) bounds the
 * connections in handshake plus those waiting for tcp_accept.  NULL when
 * the port is taken (-EADDRINUSE), all CONFIG_NET_TCP_LISTENERS are in
 * use (-ENOSPC) or port is 0 (-EINVAL), the error in *err if not NULL.
 */
struct tcp_listener *tcp_listen(uint16_t port, unsigned backlog, int *err);
/* Stops listening; connections not yet accepted are reset. */
void tcp_unlisten(struct tcp_listener *l);

/* The next established connection, or NULL: -ETIMEDOUT at the deadline,
 * the error in *err if not NULL.  The caller owns it until tcp_close. */
struct tcp_conn *tcp_accept(struct tcp_listener *l, uint64_t deadline_ns,
			    int *err);

/*
 * Opens a connection to addr:port from an ephemeral port.  NULL on
 * failure with *err: -ECONNREFUSED (RST), -ETIMEDOUT (the deadline, or
 * no answer after the SYN's retransmissions), -ENETUNREACH (no route),
 * -ENOBUFS (no connection or packet free), -EADDRNOTAVAIL (no port).
 */
struct tcp_conn *tcp_connect(uint32_t addr, uint16_t port, uint64_t deadline_ns,
			     int *err);

/*
 * Copies up to cap received bytes to buf, waiting for at least one.
 * Returns the count, 0 at the end of the stream (the peer's FIN), or
 * -ETIMEDOUT, -ECONNRESET (RST, or the peer stopped answering: then
 * -ETIMEDOUT once), -ENOTCONN (not connected yet or closed).
 */
int tcp_read(struct tcp_conn *c, void *buf, size_t cap, uint64_t deadline_ns);

/*
 * tcp_read without the copy: the next received bytes in the stack's own
 * buffer (p->data, p->len bytes, at most one buffer's worth), which the
 * caller owns and gives back with pkt_free.  NULL at the end of the stream
 * (*err 0) or on tcp_read's errors (in *err, if not NULL).  Buffers held
 * by the application count against the packet pool, not the window.
 */
struct pkt *tcp_read_pkt(struct tcp_conn *c, uint64_t deadline_ns, int *err);

/*
 * Queues len bytes for sending (copied), waiting for room in the send
 * buffer.  Returns len, or the bytes queued before the deadline
 * (-ETIMEDOUT if none), or -EPIPE after tcp_shutdown, -ECONNRESET after an
 * RST or a timeout of the peer.
 */
int tcp_write(struct tcp_conn *c, const void *buf, size_t len,
	      uint64_t deadline_ns);

/*
 * tcp_write for bytes that never change while the image runs (its .rodata,
 * e.g. a compiled web site): the stack sends them from where they are, never
 * copying them (each segment's headers take a packet of their own).  Same
 * results as tcp_write.
 */
int tcp_write_static(struct tcp_conn *c, const void *buf, size_t len,
		     uint64_t deadline_ns);

/* Sends a FIN once everything written has been sent; reading goes on.
 * 0, or -ENOTCONN. */
int tcp_shutdown(struct tcp_conn *c);

/*
 * Releases c: the caller must not use it again.  With unread data
 * received, or data arriving later, the peer gets an RST (as Linux
 * does); otherwise a FIN follows what was written, and the stack
 * finishes the close on its own.
 */
void tcp_close(struct tcp_conn *c);

/*
 * Keepalive for c (RFC 9293 3.8.4; the build's CONFIG_NET_TCP_KEEPALIVE_*
 * are the defaults): after idle_ms without a segment from the peer, a probe
 * every intvl_ms, and after probes unanswered ones the connection is reset
 * (reads and writes then fail with -ETIMEDOUT).  idle_ms 0 turns it off.
 * 0, or -EINVAL for a zero interval or probe count (or more than 255).
 */
int tcp_set_keepalive(struct tcp_conn *c, uint32_t idle_ms, uint32_t intvl_ms,
		      unsigned probes);

/* Turns Nagle's algorithm off (on: true) or back on: small writes leave at
 * once instead of waiting for the data in flight to be acknowledged. */
void tcp_set_nodelay(struct tcp_conn *c, bool on);

/* The peer's address and port; the local ones. */
struct net_addr tcp_peer(const struct tcp_conn *c);
struct net_addr tcp_local(const struct tcp_conn *c);

/* Bytes of one connection's state (the idle cost). */
size_t tcp_conn_size(void);

/* Connections in state ESTABLISHED or CLOSE_WAIT (what tests watch). */
unsigned tcp_established(void);

/* Prints TCP's counters (also at exit and on SIGUSR1 once TCP is used). */
void tcp_print_counters(void);

#endif
