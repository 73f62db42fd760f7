/*
 * NewReno congestion control: slow start and congestion avoidance
 * (RFC 5681, with RFC 3465's byte counting, L = 2 MSS), fast retransmit
 * on the third duplicate ACK and NewReno's recovery with partial ACKs
 * (RFC 6582).
 */
#include "tcp_internal.h"

static uint32_t flight(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

static void init(struct tcp_conn *c)
{
	/* RFC 5681 3.1: the initial window (RFC 6928's ten segments). */
	c->cwnd = 10 * (uint32_t)c->mss;
	c->ssthresh = UINT32_MAX;
}

static bool on_ack(struct tcp_conn *c, uint32_t acked)
{
	if (c->in_recovery) {
		if (tcp_lt(c->snd_una, c->recover) ||
		    c->snd_una == c->recover) {
			if (c->snd_una != c->recover) {
				/* Partial ACK: deflate by what it acked, and
				 * resend the next hole at once. */
				c->cwnd -= tcp_min32(c->cwnd, acked);
				c->cwnd += c->mss;
				return true;
			}
		}
		/* Full ACK: leave recovery (RFC 6582 3.2 step 3, option 1). */
		c->in_recovery = false;
		c->cwnd = tcp_min32(c->ssthresh, flight(c) + c->mss);
		return false;
	}
	if (c->cwnd < c->ssthresh)
		c->cwnd += tcp_min32(acked, 2 * (uint32_t)c->mss);
	else
		c->cwnd += tcp_max32(1, (uint32_t)c->mss * c->mss / c->cwnd);
	return false;
}

static bool on_dupack(struct tcp_conn *c)
{
	if (c->in_recovery) {
		c->cwnd += c->mss; /* each dupack: a segment has left */
		return false;
	}
	if (c->dupacks != 3)
		return false;
	/* RFC 6582 3.2 step 2: no new recovery for losses of the last. */
	if (tcp_lt(c->snd_una - 1, c->recover) && c->recover != c->iss)
		return false;
	c->ssthresh = tcp_max32(flight(c) / 2, 2 * (uint32_t)c->mss);
	c->cwnd = c->ssthresh + 3 * (uint32_t)c->mss;
	c->recover = c->snd_max;
	c->in_recovery = true;
	return true;
}

static void on_rto(struct tcp_conn *c)
{
	c->ssthresh = tcp_max32(flight(c) / 2, 2 * (uint32_t)c->mss);
	c->cwnd = c->mss;
	c->recover = c->snd_max;
	c->in_recovery = false;
}

const struct tcp_cc_ops tcp_cc = {init, on_ack, on_dupack, on_rto};
