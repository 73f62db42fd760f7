/*
 * TCP connections: the fixed pool, the 4-tuple demux hash, listeners,
 * initial sequence numbers (RFC 6528) and ephemeral ports (RFC 6056) from
 * a keyed hash, state changes and the counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

#define HASH_BUCKETS 1024 /* a power of two */

struct tcp_conn tcp_conns[CONFIG_NET_TCP_CONNS];
struct tcp_counters tcp_count;
static struct tcp_listener listeners[CONFIG_NET_TCP_LISTENERS];
static struct tcp_conn *buckets[HASH_BUCKETS];
static uint64_t key[2]; /* the secret of every keyed hash */
static unsigned established, ephemeral_next;
static bool ready;

/* SipHash-2-4 (Aumasson and Bernstein) over 1..4 words: a keyed hash an
 * attacker who sees its outputs cannot invert, as RFC 6528 asks of F(). */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13) ^ v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17) ^ v[2];
	v[2] = ROTL(v[2], 32);
}

static uint64_t siphash(const uint64_t *m, unsigned n)
{
	uint64_t v[4] = {
	    key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL,
	    key[0] ^ 0x6c7967656e657261ULL, key[1] ^ 0x7465646279746573ULL};
	for (unsigned i = 0; i <= n; i++) {
		/* The last block carries the length, as SipHash pads. */
		uint64_t b = i < n ? m[i] : (uint64_t)(n * 8) << 56;
		v[3] ^= b;
		sip_round(v);
		sip_round(v);
		v[0] ^= b;
	}
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void print_at_report(void)
{
	tcp_print_counters();
}

void tcp_init(void)
{
	if (ready)
		return;
	ready = true;
	/* Two key words from the one seed: a splitmix64 step apart. */
	uint64_t s = ingot_boot_info()->random_seed;
	key[0] = s;
	s += 0x9e3779b97f4a7c15ULL;
	s = (s ^ (s >> 30)) * 0xbf58476d1ce4e5b9ULL;
	s = (s ^ (s >> 27)) * 0x94d049bb133111ebULL;
	key[1] = s ^ (s >> 31);
	ephemeral_next = (unsigned)siphash(key, 1);
	atexit(print_at_report);
	sched_on_report(print_at_report);
}

static unsigned bucket(uint32_t lip, uint16_t lport, uint32_t rip,
		       uint16_t rport)
{
	uint64_t m[2] = {(uint64_t)lip << 32 | rip,
			 (uint64_t)lport << 16 | rport};
	return (unsigned)siphash(m, 2) & (HASH_BUCKETS - 1);
}

struct tcp_conn *tcp_conn_lookup(uint32_t lip, uint16_t lport, uint32_t rip,
				 uint16_t rport)
{
	struct tcp_conn *c = buckets[bucket(lip, lport, rip, rport)];
	for (; c; c = c->hnext)
		if (c->lport == lport && c->rport == rport && c->rip == rip &&
		    c->lip == lip)
			return c;
	return NULL;
}

void tcp_conn_hash(struct tcp_conn *c)
{
	c->hashed = true;
	unsigned b = bucket(c->lip, c->lport, c->rip, c->rport);
	c->hnext = buckets[b];
	buckets[b] = c;
}

static void unhash(struct tcp_conn *c)
{
	if (!c->hashed)
		return;
	c->hashed = false;
	struct tcp_conn **pp =
	    &buckets[bucket(c->lip, c->lport, c->rip, c->rport)];
	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			return;
		}
}

bool tcp_pool_low(void)
{
	return pkt_pool_free() < CONFIG_NET_TCP_RESERVE_PKTS;
}

/* Whether c's send queue has waited TCP_SHED_STALL_MS on a peer that
 * keeps its window shut (nothing in flight, nothing sent since). */
static bool send_stalled(const struct tcp_conn *c, uint64_t now)
{
	return c->sndq.len && c->snd_una == c->snd_max &&
	       now - c->last_send >= TCP_SHED_STALL_MS * TCP_MS;
}

bool tcp_shed_stalled(const struct tcp_conn *self)
{
	static uint64_t last;
	uint64_t now = sched_now();
	if (last && now - last < TCP_SHED_EVERY_MS * TCP_MS)
		return false;
	last = now;
	struct tcp_conn *victim = NULL;
	for (unsigned i = 0; i < CONFIG_NET_TCP_CONNS; i++) {
		struct tcp_conn *c = &tcp_conns[i];
		if (c->in_use && c != self && c->state != TCP_CLOSED &&
		    send_stalled(c, now) &&
		    (!victim || c->sndq.len > victim->sndq.len))
			victim = c;
	}
	if (!victim)
		return false;
	tcp_send_ctl(victim, TCP_RST | TCP_ACK, victim->snd_nxt);
	tcp_count.conns_shed++;
	tcp_conn_drop(victim, -ECONNRESET);
	return true;
}

/* A free connection, or the TIME_WAIT one closest to its end. */
struct tcp_conn *tcp_conn_alloc(void)
{
	struct tcp_conn *c = NULL, *tw = NULL;
	for (unsigned i = 0; i < CONFIG_NET_TCP_CONNS && !c; i++) {
		if (!tcp_conns[i].in_use)
			c = &tcp_conns[i];
		else if (tcp_conns[i].state == TCP_TIME_WAIT &&
			 !tcp_conns[i].app_owned &&
			 (!tw || tcp_conns[i].t_keep < tw->t_keep))
			tw = &tcp_conns[i];
	}
	if (!c && tw) {
		tcp_count.time_wait_recycled++;
		tcp_conn_free(tw);
		c = tw;
	}
	if (!c)
		return NULL;
	memset(c, 0, sizeof *c);
	c->in_use = true;
	c->rto_ms = TCP_RTO_INIT_MS;
	c->mss = TCP_MSS_DEFAULT;
	c->keep_idle_ms = CONFIG_NET_TCP_KEEPALIVE_MS;
	c->keep_intvl_ms = CONFIG_NET_TCP_KEEPALIVE_INTVL_MS;
	c->keep_probes_max = CONFIG_NET_TCP_KEEPALIVE_PROBES;
	return c;
}

static void free_queue(struct pkt_queue *q)
{
	struct pkt *p;
	while ((p = pkt_queue_pop(q)))
		pkt_free(p);
}

void tcp_conn_free(struct tcp_conn *c)
{
	struct pkt *p;
	if (c->state != TCP_CLOSED)
		tcp_set_state(c, TCP_CLOSED);
	unhash(c);
	tcp_output_forget(c);
	while ((p = tcp_sndq_pop(&c->sndq)))
		pkt_free(p);
	free_queue(&c->rcvq);
	free_queue(&c->ooq);
	if (c->listener) {
		/* Still embryonic or on the accept queue. */
		struct tcp_listener *l = c->listener;
		struct tcp_conn **pp = &l->aq_head;
		for (; *pp; pp = &(*pp)->aq_next)
			if (*pp == c) {
				*pp = c->aq_next;
				break;
			}
		l->aq_tail = NULL;
		for (struct tcp_conn *q = l->aq_head; q; q = q->aq_next)
			l->aq_tail = q;
		l->pending--;
	}
	c->in_use = false;
	c->lport = 0;
}

void tcp_set_state(struct tcp_conn *c, uint8_t state)
{
	bool was = c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT;
	bool is = state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT;
	established += is - was;
	c->state = state;
	if (state == TCP_ESTABLISHED && c->keep_idle_ms)
		tcp_keep_arm(c, c->keep_idle_ms);
	if (state == TCP_TIME_WAIT) {
		c->t_rtx = c->t_delack = 0;
		tcp_keep_arm(c, CONFIG_NET_TCP_TIME_WAIT_MS);
	}
	sched_wake_all(&c->readers);
	sched_wake_all(&c->writers);
}

void tcp_conn_drop(struct tcp_conn *c, int err)
{
	if (!c->err)
		c->err = err;
	tcp_set_state(c, TCP_CLOSED);
	c->t_rtx = c->t_delack = c->t_keep = 0;
	if (!c->app_owned) {
		tcp_conn_free(c);
		return;
	}
	/* The application still holds it: out of the demux (a segment for
	 * it now finds no connection) and its queues but what is unread. */
	unhash(c);
	struct pkt *p;
	while ((p = tcp_sndq_pop(&c->sndq)))
		pkt_free(p);
	while ((p = pkt_queue_pop(&c->ooq)))
		pkt_free(p);
	c->snd_next_pkt = NULL;
	c->snd_queued = 0;
	c->rcv_queued = 0;
	for (p = c->rcvq.head; p; p = pkt_meta(p)->next)
		c->rcv_queued += p->len;
}

unsigned tcp_established(void)
{
	return established;
}

/* Our window scale: the least that lets the window cover the buffer. */
uint8_t tcp_our_wscale(void)
{
	uint8_t s = 0;
	while (s < 14 && (65535u << s) < CONFIG_NET_TCP_RCVBUF)
		s++;
	return s;
}

size_t tcp_conn_size(void)
{
	return sizeof(struct tcp_conn);
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock. */
uint32_t tcp_isn(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	uint64_t m[2] = {(uint64_t)lip << 32 | rip,
			 (uint64_t)lport << 16 | rport | 1ULL << 40};
	return (uint32_t)siphash(m, 2) + (uint32_t)(sched_now() / 4000);
}

/*
 * SYN cookies (RFC 4987 3.6), for a SYN that finds the listener's backlog
 * or the pool full: the ISN carries a 5-bit time counter (64 s a step), a
 * 24-bit keyed hash of the connection, the peer's ISN and the time, and
 * 3 bits choosing the MSS from a table.  A cookie is good for two steps.
 * The other SYN options are not kept: such a connection runs without
 * window scaling, timestamps or SACK.
 */
#define COOKIE_STEP_NS (64 * 1000000000ULL)
static const uint16_t cookie_mss[8] = {536,  1024, 1220, 1360,
				       1400, 1440, 1452, 1460};

static uint32_t cookie_hash(uint32_t lip, uint16_t lport, uint32_t rip,
			    uint16_t rport, uint32_t peer_isn, uint32_t step)
{
	uint64_t m[3] = {(uint64_t)lip << 32 | rip,
			 (uint64_t)lport << 16 | rport | 4ULL << 40,
			 (uint64_t)peer_isn << 32 | step};
	return (uint32_t)siphash(m, 3) & 0xffffff;
}

uint32_t tcp_cookie(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
		    uint32_t peer_isn, uint16_t mss)
{
	uint32_t step = (uint32_t)(sched_now() / COOKIE_STEP_NS);
	unsigned i = 0;
	while (i < 7 && cookie_mss[i + 1] <= mss)
		i++;
	return (step & 31) << 27 |
	       cookie_hash(lip, lport, rip, rport, peer_isn, step) << 3 | i;
}

int tcp_cookie_mss(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
		   uint32_t peer_isn, uint32_t cookie)
{
	uint32_t now = (uint32_t)(sched_now() / COOKIE_STEP_NS);
	for (uint32_t back = 0; back < 2 && back <= now; back++) {
		uint32_t step = now - back;
		if ((step & 31) == cookie >> 27 &&
		    cookie_hash(lip, lport, rip, rport, peer_isn, step) ==
			(cookie >> 3 & 0xffffff))
			return cookie_mss[cookie & 7];
	}
	return -1;
}

uint32_t tcp_cookie_opts(const struct tcp_opts *syn)
{
	uint32_t ws = syn->wscale >= 0 ? (uint32_t)syn->wscale : 0xf;
	return (syn->sack_ok ? 0x10u : 0) | (ws > 14 && ws != 0xf ? 14 : ws);
}

void tcp_cookie_opts_decode(uint32_t tsecr, struct tcp_opts *o)
{
	uint32_t ws = tsecr & 0xf;
	o->wscale = ws == 0xf ? -1 : (int8_t)(ws > 14 ? 14 : ws);
	o->sack_ok = tsecr & 0x10;
}

/* RFC 7323 5.4: a random offset per pair of hosts hides our clock. */
uint32_t tcp_ts_offset(uint32_t lip, uint32_t rip)
{
	uint64_t m[2] = {(uint64_t)lip << 32 | rip, 2};
	return (uint32_t)siphash(m, 2);
}

/* RFC 6056 algorithm 3: a per-destination offset into the range, and a
 * shared counter, so ports are hard to guess and reuse is spread out. */
int tcp_ephemeral_port(uint32_t lip, uint32_t rip, uint16_t rport)
{
	const unsigned lo = 49152, n = 65536 - 49152;
	uint64_t m[2] = {(uint64_t)lip << 32 | rip,
			 (uint64_t)rport | 3ULL << 32};
	unsigned off = (unsigned)siphash(m, 2);
	for (unsigned i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(lo + (off + ephemeral_next++) % n);
		if (!tcp_conn_lookup(lip, port, rip, rport) &&
		    !tcp_listener_lookup(port))
			return port;
	}
	return -EADDRNOTAVAIL;
}

struct tcp_listener *tcp_listener_lookup(uint16_t port)
{
	for (unsigned i = 0; i < CONFIG_NET_TCP_LISTENERS; i++)
		if (listeners[i].port == port)
			return &listeners[i];
	return NULL;
}

struct tcp_listener *tcp_listen(uint16_t port, unsigned backlog, int *err)
{
	int e = 0;
	struct tcp_listener *l = NULL;
	tcp_init();
	if (!port || !backlog)
		e = -EINVAL;
	else if (tcp_listener_lookup(port))
		e = -EADDRINUSE;
	else if (!(l = tcp_listener_lookup(0)))
		e = -ENOSPC;
	else
		*l = (struct tcp_listener){.port = port, .backlog = backlog};
	if (err)
		*err = e;
	return e ? NULL : l;
}

void tcp_unlisten(struct tcp_listener *l)
{
	for (unsigned i = 0; i < CONFIG_NET_TCP_CONNS; i++) {
		struct tcp_conn *c = &tcp_conns[i];
		if (c->in_use && c->listener == l) {
			tcp_send_ctl(c, TCP_RST | TCP_ACK, c->snd_nxt);
			tcp_count.conns_reset_out++;
			c->app_owned = false;
			tcp_conn_free(c);
		}
	}
	sched_wake_all(&l->waiters);
	l->port = 0;
}

/* Packets on a queue linked through next, each a frame of pieces. */
static unsigned chain_pkts(struct pkt *p)
{
	unsigned n = 0;
	for (; p; p = pkt_meta(p)->next)
		for (struct pkt *q = p; q; q = pkt_meta(q)->frag)
			n++;
	return n;
}

void tcp_print_counters(void)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
#define TCP_COUNTER_ENTRY(n) {#n, offsetof(struct tcp_counters, n)},
	    TCP_COUNTERS(TCP_COUNTER_ENTRY)
#undef TCP_COUNTER_ENTRY
	};
	unsigned used = 0, sndq = 0, rcvq = 0, ooq = 0;
	for (unsigned i = 0; i < CONFIG_NET_TCP_CONNS; i++) {
		const struct tcp_conn *c = &tcp_conns[i];
		if (!c->in_use)
			continue;
		used++;
		sndq += c->sndq.len;
		rcvq += chain_pkts(c->rcvq.head);
		ooq += chain_pkts(c->ooq.head);
	}
	/* Where the pool is: gauges, not counters. */
	printf("tcp: counters:\n established=%u conns_in_use=%u pkts_in_use=%u"
	       " pkts_sndq=%u\n pkts_rcvq=%u pkts_ooq=%u",
	       established, used, pkt_pool_in_use(), sndq, rcvq, ooq);
	int col = 6;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		uint64_t v = *(const uint64_t *)((const char *)&tcp_count +
						 fields[i].offset);
		if (!v)
			continue;
		printf("%s %s=%lu", col++ % 4 ? "" : "\n ", fields[i].name,
		       (unsigned long)v);
	}
	printf("\n");
	fflush(stdout);
}
