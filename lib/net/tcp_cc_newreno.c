/*
 * NewReno congestion control (CONFIG_NET_TCP_CC 1): slow start and
 * congestion avoidance (RFC 5681, with RFC 3465's byte counting, L = 2
 * MSS); on loss the window halves (recovery itself: tcp_recovery.c).
 */
#include "tcp_internal.h"

#if CONFIG_NET_TCP_CC == 1

static void init(struct tcp_conn *c)
{
	/* RFC 5681 3.1: the initial window (RFC 6928's ten segments). */
	c->cwnd = 10 * (uint32_t)c->mss;
	c->ssthresh = UINT32_MAX;
}

static bool on_ack(struct tcp_conn *c, uint32_t acked)
{
	if (c->in_recovery)
		return tcp_recovery_ack(c, acked);
	if (c->cwnd < c->ssthresh)
		c->cwnd += tcp_min32(acked, 2 * (uint32_t)c->mss);
	else
		c->cwnd += tcp_max32(1, (uint32_t)c->mss * c->mss / c->cwnd);
	return false;
}

static bool on_dupack(struct tcp_conn *c)
{
	bool enter;
	if (!tcp_recovery_dupack(c, &enter) || !enter)
		return false;
	c->ssthresh = tcp_max32(tcp_flight(c) / 2, 2 * (uint32_t)c->mss);
	tcp_recovery_enter(c);
	return true;
}

static void on_rto(struct tcp_conn *c)
{
	c->ssthresh = tcp_max32(tcp_flight(c) / 2, 2 * (uint32_t)c->mss);
	tcp_recovery_rto(c);
}

const struct tcp_cc_ops tcp_cc = {init, on_ack, on_dupack, on_rto};

#endif
