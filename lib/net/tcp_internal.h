/* TCP internals shared by lib/net/tcp_*.c (include/ingot/tcp.h is the
 * contract). */
#ifndef LIB_NET_TCP_INTERNAL_H
#define LIB_NET_TCP_INTERNAL_H

#include <errno.h>
#include <ingot/tcp.h>

#include "net_internal.h"

#define TCP_HLEN 20
/* Our segments keep their payload at this offset of the buffer: room for
 * Ethernet, IPv4 and a TCP header with 40 bytes of options. */
#define TCP_HEADROOM    128
#define TCP_MSS_DEFAULT 536 /* RFC 9293 3.7.1, when the peer names none */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

#define TCP_MS               1000000ULL /* ns */
#define TCP_RTO_MIN_MS       200
#define TCP_RTO_MAX_MS       60000
#define TCP_RTO_INIT_MS      1000
#define TCP_SYN_RETRIES      6
#define TCP_RETRIES          15 /* then the peer is gone (Linux's tcp_retries2) */
#define TCP_DELACK_MS        40
#define TCP_FIN_WAIT2_MS     60000 /* orphaned connections only */
#define TCP_SACK_MAX         4
#define TCP_CHALLENGES_PER_S 10    /* challenge ACKs per connection */
#define TCP_SHED_STALL_MS    10000 /* a send queue stalled this long ... */
#define TCP_SHED_EVERY_MS    100   /* ... may be shed this often */

enum tcp_state {
	TCP_CLOSED,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

/* TCP's counters: every drop has a reason.  X(name) in print order. */
#define TCP_COUNTERS(X)                                                        \
	X(segs_in)                                                             \
	X(segs_out)                                                            \
	X(bytes_in)                                                            \
	X(bytes_out)                                                           \
	X(retransmits)                                                         \
	X(fast_retransmits)                                                    \
	X(rto_timeouts)                                                        \
	X(zero_window_probes)                                                  \
	X(keepalive_probes)                                                    \
	X(delayed_acks)                                                        \
	X(challenge_acks)                                                      \
	X(challenge_acks_limited)                                              \
	X(conns_opened_passive)                                                \
	X(conns_opened_active)                                                 \
	X(conns_refused)                                                       \
	X(conns_reset_in)                                                      \
	X(conns_reset_out)                                                     \
	X(conns_timed_out)                                                     \
	X(conns_shed)                                                          \
	X(time_wait_recycled)                                                  \
	X(listen_overflow)                                                     \
	X(syn_cookies_sent)                                                    \
	X(syn_cookies_accepted)                                                \
	X(resets_sent)                                                         \
	X(ooo_queued)                                                          \
	X(ooo_pruned)                                                          \
	X(drop_malformed)                                                      \
	X(drop_bad_checksum)                                                   \
	X(drop_bad_options)                                                    \
	X(drop_no_conn)                                                        \
	X(drop_not_acceptable)                                                 \
	X(drop_bad_ack)                                                        \
	X(drop_rst_invalid)                                                    \
	X(drop_syn_invalid)                                                    \
	X(drop_out_of_window)                                                  \
	X(drop_ooo_full)                                                       \
	X(drop_rcvbuf_full)                                                    \
	X(drop_no_memory)                                                      \
	X(drop_after_close)

struct tcp_counters {
#define TCP_COUNTER_FIELD(n) uint64_t n;
	TCP_COUNTERS(TCP_COUNTER_FIELD)
#undef TCP_COUNTER_FIELD
};
extern struct tcp_counters tcp_count;

/* Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4). */
static inline bool tcp_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool tcp_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}
static inline uint32_t tcp_min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}
static inline uint32_t tcp_max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* Options as parsed from a segment, or to put on one. */
struct tcp_opts {
	uint16_t mss;  /* 0: none */
	int8_t wscale; /* -1: none */
	bool sack_ok;  /* SACK-permitted */
	bool ts;       /* timestamps present */
	uint32_t tsval, tsecr;
	uint8_t nsack;
	uint32_t sack[TCP_SACK_MAX][2]; /* [left, right) */
};

/* Congestion control (tcp_cc_*.c, one chosen by CONFIG_NET_TCP_CC): it
 * owns cwnd, ssthresh, recover and in_recovery.  on_ack (snd_una already
 * advanced by acked bytes) and on_dupack return true when the first
 * unacknowledged segment must be retransmitted now. */
struct tcp_conn;
struct tcp_cc_ops {
	void (*init)(struct tcp_conn *c);
	bool (*on_ack)(struct tcp_conn *c, uint32_t acked);
	bool (*on_dupack)(struct tcp_conn *c);
	void (*on_rto)(struct tcp_conn *c);
};
extern const struct tcp_cc_ops tcp_cc;

/* tcp_recovery.c: fast retransmit and NewReno's recovery (RFC 6582) for
 * every congestion control.  tcp_recovery_ack handles an ACK in recovery
 * (true: resend the next hole); tcp_recovery_dupack a duplicate ACK (true
 * with *enter: the third, recovery starts: cut ssthresh, then call
 * tcp_recovery_enter); tcp_recovery_rto the window after a timeout, once
 * ssthresh is cut. */
uint32_t tcp_flight(const struct tcp_conn *c);
bool tcp_recovery_ack(struct tcp_conn *c, uint32_t acked);
bool tcp_recovery_dupack(struct tcp_conn *c, bool *enter);
void tcp_recovery_enter(struct tcp_conn *c);
void tcp_recovery_rto(struct tcp_conn *c);

struct tcp_listener {
	uint16_t port;             /* 0: free */
	unsigned backlog, pending; /* pending: embryonic + accept queue */
	struct tcp_conn *aq_head, *aq_tail;
	struct sched_waitq waiters;
};

struct tcp_conn {
	uint8_t state;
	bool in_use, app_owned; /* app_owned: until tcp_close */
	bool nodelay, fin_queued, fin_sent, rcv_fin, ws_ok, ts_ok, sack_ok;
	bool ack_now, delack_pending, in_recovery, hashed;
	bool ack_turn; /* an ACK due by the end of this turn (tcp_in.c) */
	uint8_t snd_wscale, rcv_wscale, dupacks, retries, keep_probes;
	/* Keepalive (tcp_set_keepalive): idle and interval in ms, idle 0
	 * off; probes unanswered before the connection is given up. */
	uint32_t keep_idle_ms, keep_intvl_ms;
	uint8_t keep_probes_max;
	int err; /* what the next read or write reports */
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint16_t mss;                  /* payload per segment we send */
	struct tcp_conn *hnext;        /* demux hash chain */
	struct tcp_listener *listener; /* until accepted */
	struct tcp_conn *aq_next;      /* on its listener's accept queue */

	/* Send sequence space (RFC 9293 3.3.1); snd_max: highest sent. */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_snd_wnd; /* RFC 5961 5.2's MAX.SND.WND */
	uint32_t snd_end;     /* the sequence number of the next byte written */
	uint32_t fin_seq;     /* ours, once fin_queued */
	/* Receive sequence space; rcv_adv: the right edge advertised. */
	uint32_t irs, rcv_nxt, rcv_adv;
	uint32_t ts_recent, ts_offset;
	uint32_t sack_recent; /* the latest out-of-order segment's start */
	uint32_t sack_high;   /* the highest byte the peer SACKed, + 1 */

	/* RFC 6298, in microseconds; rtt_seq timed by Karn when no ts. */
	uint32_t srtt, rttvar, rto_ms, rtt_seq;
	uint64_t rtt_start;
	bool rtt_timing;
	/* Congestion control. */
	uint32_t cwnd, ssthresh, recover;
#if CONFIG_NET_TCP_CC == 2
	/* CUBIC: the window at the last loss, the epoch's start (ms, 0:
	 * none), K in ms and Reno's estimate (tcp_cc_cubic.c). */
	uint32_t cubic_w_max, cubic_k, cubic_w_est;
	uint64_t cubic_epoch;
#endif

	/* Segments written, unacknowledged ones first; snd_next_pkt is the
	 * first not sent since the last go-back. */
	struct pkt_queue sndq;
	struct pkt *snd_next_pkt;
	uint32_t snd_queued;        /* bytes on sndq */
	struct pkt_queue rcvq, ooq; /* in order, unread; out of order */
	uint32_t rcv_queued;        /* payload bytes on rcvq and ooq */

	/* Timers: monotonic ns deadlines, 0 when off. */
	uint64_t t_rtx; /* retransmission, persist or SYN */
	uint64_t t_delack;
	uint64_t t_keep; /* keepalive, FIN_WAIT_2 or TIME_WAIT */
	uint64_t last_recv;
	uint64_t last_send;    /* of data, for slow start after idle */
	uint64_t challenge_at; /* the current second of challenge ACKs */
	uint8_t challenges;

	struct sched_waitq readers, writers;
	/* Written data waiting for the end of the turn (tcp_output_later). */
	struct tcp_conn *flush_next;
	bool flush_queued;
	/* Stopped by a full TX queue, in line for room (tcp_output). */
	bool txq_waiting;
	struct tcp_conn *txq_next;
};

/* The sequence number and payload of a packet on a TCP queue; the payload
 * lives at buf + off, len bytes (p->data moves when headers go on), or
 * for image data at tcp_ext. */
static inline uint32_t tcp_pkt_seq(struct pkt *p)
{
	return pkt_meta(p)->tcp_seq;
}
static inline const uint8_t *tcp_pkt_payload(struct pkt *p)
{
	const struct pkt_meta *m = pkt_meta(p);
	return m->tcp_ext ? m->tcp_ext : m->buf + m->tcp_off;
}

/* The send queue: linked through tcp_next, since a segment on it may
 * also wait on a TX or ARP queue, which link through next. */
static inline void tcp_sndq_push(struct pkt_queue *q, struct pkt *p)
{
	pkt_meta(p)->tcp_next = NULL;
	if (q->tail)
		pkt_meta(q->tail)->tcp_next = p;
	else
		q->head = p;
	q->tail = p;
	q->len++;
}

static inline struct pkt *tcp_sndq_pop(struct pkt_queue *q)
{
	struct pkt *p = q->head;
	if (p) {
		q->head = pkt_meta(p)->tcp_next;
		if (!q->head)
			q->tail = NULL;
		q->len--;
	}
	return p;
}

/* tcp_conn.c */
void tcp_init(void);
struct tcp_conn *tcp_conn_alloc(void);
void tcp_conn_free(struct tcp_conn *c); /* unhashed, packets freed */
void tcp_conn_hash(struct tcp_conn *c);
struct tcp_conn *tcp_conn_lookup(uint32_t lip, uint16_t lport, uint32_t rip,
				 uint16_t rport);
struct tcp_listener *tcp_listener_lookup(uint16_t port);
uint32_t tcp_isn(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport);
/* SYN cookies: our ISN for a SYN answered without state, and the MSS it
 * encodes when an ACK brings it back (-1: not one of ours, or too old). */
uint32_t tcp_cookie(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
		    uint32_t peer_isn, uint16_t mss);
int tcp_cookie_mss(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
		   uint32_t peer_isn, uint32_t cookie);
/* A SYN's window scale and SACK-permitted, in the low bits of the TSval
 * of the SYN-ACK that carries its cookie, and back out of the TSecr of
 * the ACK that returns it (into o's wscale and sack_ok). */
#define TCP_COOKIE_OPT_MASK 0x1fu
uint32_t tcp_cookie_opts(const struct tcp_opts *syn);
void tcp_cookie_opts_decode(uint32_t tsecr, struct tcp_opts *o);
uint32_t tcp_ts_offset(uint32_t lip, uint32_t rip);
int tcp_ephemeral_port(uint32_t lip, uint32_t rip, uint16_t rport);
void tcp_set_state(struct tcp_conn *c, uint8_t state);
/* Drops c with error err (0: a normal end): wakes its fibers, frees it
 * unless the application still holds it. */
void tcp_conn_drop(struct tcp_conn *c, int err);
bool tcp_pool_low(void);
/* Free packets below which tcp_write waits for the pool: half the reserve
 * (tcp.h), under what receiving may hold. */
#define TCP_WRITE_FLOOR (CONFIG_NET_TCP_RESERVE_PKTS / 2)
/* Under the reserve a connection may still hold this many packets of
 * in-order data, while this many are free (above the writes' share). */
#define TCP_RCV_MIN_PKTS  2
#define TCP_RCV_MIN_FLOOR (CONFIG_NET_TCP_RESERVE_PKTS * 3 / 4)
/* A write that finds the pool at its floor, or data that finds no room:
 * resets the connection other than self that holds the most packets on a
 * send queue stalled by its peer's shut window (tcp.h), at most once per
 * TCP_SHED_EVERY_MS; true if one was shed. */
bool tcp_shed_stalled(const struct tcp_conn *self);
uint8_t tcp_our_wscale(void);
extern struct tcp_conn tcp_conns[CONFIG_NET_TCP_CONNS];

/* tcp_opt.c */
/* Parses the options of a TCP header of hlen bytes; false if malformed. */
bool tcp_opt_parse(const uint8_t *h, unsigned hlen, bool syn,
		   struct tcp_opts *o);
/* Writes o's options at p (at most 40 bytes); returns their length. */
unsigned tcp_opt_build(uint8_t *p, const struct tcp_opts *o);

/* tcp_out.c */
/* Sends what the windows, Nagle and the queue allow, then an ACK if one is
 * owed. */
void tcp_output(struct tcp_conn *c);
/* tcp_output at the end of the scheduler's turn, once every fiber that
 * runs in it has written: consecutive writes leave as one TSO frame
 * rather than a frame each (Linux's autocorking does the like). */
void tcp_output_later(struct tcp_conn *c);
/* Takes c off that list and out of the line for TX queue room (it is
 * being freed). */
void tcp_output_forget(struct tcp_conn *c);
void tcp_send_ctl(struct tcp_conn *c, uint8_t flags, uint32_t seq);
void tcp_send_ack(struct tcp_conn *c);
/* An RST answering a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_send_cookie_for(struct netif *ifp, const struct pkt_meta *m,
			 const uint8_t *th, uint32_t cookie, uint16_t mss,
			 const struct tcp_opts *syn);
void tcp_send_reset_for(struct netif *ifp, const struct pkt_meta *m,
			const uint8_t *th, uint32_t seglen);
void tcp_retransmit_first(struct tcp_conn *c);
/* Sends the n queued segments from p as one frame (tcp_out.c); false if
 * the pool is empty. */
bool tcp_send_queued(struct tcp_conn *c, struct pkt *p, unsigned n,
		     uint8_t flags);
/* Resends queued segment p alone, cut to one MSS first, and marks it
 * resent; false if the pool is empty. */
bool tcp_resend(struct tcp_conn *c, struct pkt *p);
/* Cuts queued image-data segment p after its first n bytes, the rest a
 * segment of its own after it; false if the pool is empty. */
bool tcp_seg_split(struct tcp_conn *c, struct pkt *p, uint32_t n);
/* Payload bytes in one TSO frame: an IP packet's worth, whole segments;
 * also the most an image-data segment holds (tcp_write_static). */
static inline uint32_t tcp_tso_max(const struct tcp_conn *c)
{
	uint32_t max = 65535 - IP_HLEN - TCP_HLEN - 40;
	return max - max % c->mss;
}
/* Sends the next segment not sent yet if the peer's window (not cwnd)
 * allows; false if none went. */
bool tcp_send_new(struct tcp_conn *c);

/* tcp_sack.c: marks what the SACK blocks of an ACK cover (RFC 2018); in
 * fast recovery, sends what RFC 6675's pipe leaves room for. */
void tcp_sack_update(struct tcp_conn *c, const struct tcp_opts *o);
void tcp_sack_recover(struct tcp_conn *c);
/* Frees what ack acknowledges; returns the bytes. */
uint32_t tcp_sndq_ack(struct tcp_conn *c, uint32_t ack);
uint32_t tcp_rcv_window(const struct tcp_conn *c);
uint32_t tcp_ts_now(const struct tcp_conn *c);
/* The application read: a window update if the window grew enough. */
void tcp_window_update(struct tcp_conn *c);

/* tcp_timer.c */
void tcp_timer_kick(uint64_t deadline);
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_us);
void tcp_rtx_arm(struct tcp_conn *c);
void tcp_delack_arm(struct tcp_conn *c);
void tcp_keep_arm(struct tcp_conn *c, uint64_t ms);

#endif
