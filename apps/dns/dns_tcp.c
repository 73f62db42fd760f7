/*
 * DNS over TCP (RFC 7766, RFC 1035 4.2.2): messages with a two-byte length
 * prefix, as many per connection as the client sends, each answered as it
 * comes (answers need no lookups elsewhere, so answering in order is as
 * quick as any order).  A connection gets a slot of its own: a fiber and
 * a buffer for the largest message; when every slot is busy a new
 * connection is closed at once, and one idle for CONFIG_DNS_TCP_IDLE_MS
 * is closed by the server (RFC 7766 6.2.3).  An AXFR from a peer the
 * build allows gets the zone (lib/dns/xfr.c).
 */
#include <errno.h>
#include <ingot/dns.h>
#include <ingot/sched.h>
#include <ingot/tcp.h>
#include <stdio.h>
#include <string.h>

#include "dns_app.h"

#define MSG_MAX 65535

struct slot {
	struct tcp_conn *conn;
	struct dns_xfr xfr;
	uint8_t buf[2 + MSG_MAX];
};

static struct slot slots[CONFIG_DNS_TCP_CONNS];

static struct {
	unsigned long accepted, refused, idle_closed, bad_length, answered;
} count;

/* Reads exactly n bytes: 1, 0 at a clean end before the first byte, or
 * -1 (the peer went away mid-message, the deadline, an error). */
static int read_exactly(struct tcp_conn *c, uint8_t *buf, size_t n,
			uint64_t deadline)
{
	for (size_t got = 0; got < n;) {
		int r = tcp_read(c, buf + got, n - got, deadline);
		if (r == 0 && got == 0)
			return 0;
		if (r <= 0) {
			if (r == -ETIMEDOUT && got == 0)
				count.idle_closed++;
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

/* Sends the messages of the transfer started in s->xfr: 0 or -1. */
static int transfer(struct slot *s)
{
	size_t n;
	while ((n = dns_xfr_next(&s->xfr, s->buf + 2, MSG_MAX))) {
		s->buf[0] = (uint8_t)(n >> 8);
		s->buf[1] = (uint8_t)n;
		if (tcp_write(s->conn, s->buf, 2 + n, UINT64_MAX) !=
		    (int)(2 + n))
			return -1;
	}
	return 0;
}

static void serve(void *arg)
{
	struct slot *s = arg;
	uint8_t *msg = s->buf + 2;

	for (;;) {
		uint64_t idle =
		    sched_now() + CONFIG_DNS_TCP_IDLE_MS * 1000000ULL;
		if (read_exactly(s->conn, s->buf, 2, idle) <= 0)
			break;
		size_t len = (size_t)s->buf[0] << 8 | s->buf[1];
		if (read_exactly(s->conn, msg, len, idle) <= 0)
			break;
		if (dns_xfr_start(&s->xfr, msg, len, tcp_peer(s->conn).ip)) {
			if (transfer(s) < 0)
				break;
			continue;
		}
		size_t n = dns_answer(msg, len, msg, MSG_MAX, true);
		if (!n) { /* not a query: nothing to answer on this stream */
			count.bad_length++;
			break;
		}
		s->buf[0] = (uint8_t)(n >> 8);
		s->buf[1] = (uint8_t)n;
		if (tcp_write(s->conn, s->buf, 2 + n, UINT64_MAX) !=
		    (int)(2 + n))
			break;
		count.answered++;
	}
	tcp_close(s->conn);
	s->conn = NULL;
}

static struct slot *free_slot(void)
{
	for (unsigned i = 0; i < CONFIG_DNS_TCP_CONNS; i++)
		if (!slots[i].conn)
			return &slots[i];
	return NULL;
}

static void accept_loop(void *arg)
{
	struct tcp_listener *l = arg;

	for (;;) {
		struct tcp_conn *c = tcp_accept(l, UINT64_MAX, NULL);
		if (!c)
			continue;
		struct slot *s = free_slot();
		if (s) {
			s->conn = c;
			if (sched_spawn(serve, s, "dns-tcp") > 0) {
				count.accepted++;
				continue;
			}
			s->conn = NULL;
		}
		count.refused++;
		tcp_close(c);
	}
}

int dns_tcp_start(uint16_t port)
{
	int err;
	struct tcp_listener *l = tcp_listen(port, CONFIG_DNS_TCP_CONNS, &err);
	if (!l)
		return err;
	int id = sched_spawn(accept_loop, l, "dns-tcp-accept");
	return id > 0 ? 0 : id;
}

void dns_tcp_print_counters(void)
{
	printf("dns: tcp: accepted=%lu refused=%lu idle_closed=%lu "
	       "not_queries=%lu answered=%lu transfers=%lu\n",
	       count.accepted, count.refused, count.idle_closed,
	       count.bad_length, count.answered, dns_xfr_count());
}
