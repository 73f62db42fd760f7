/*
 * Fast retransmit and fast recovery (RFC 5681 3.2), shared by every
 * congestion control: they differ only in the window they cut to
 * (ssthresh) and how it grows afterwards.  With SACK the window stays at
 * ssthresh and RFC 6675's pipe decides what goes (tcp_sack.c); without,
 * NewReno's inflation and partial ACKs (RFC 6582).
 */
#include "tcp_internal.h"

uint32_t tcp_flight(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

bool tcp_recovery_ack(struct tcp_conn *c, uint32_t acked)
{
	if (tcp_lt(c->snd_una, c->recover)) {
		/* Partial ACK: resend the next hole at once; without SACK
		 * (whose pipe counts what left) deflate by what it acked. */
		if (!c->sack_ok) {
			c->cwnd -= tcp_min32(c->cwnd, acked);
			c->cwnd += c->mss;
		}
		return true;
	}
	/* Full ACK: leave recovery (RFC 6582 3.2 step 3, option 1). */
	c->in_recovery = false;
	c->cwnd = tcp_min32(c->ssthresh, tcp_flight(c) + c->mss);
	return false;
}

bool tcp_recovery_dupack(struct tcp_conn *c, bool *enter)
{
	*enter = false;
	if (c->in_recovery) {
		if (!c->sack_ok)
			c->cwnd += c->mss; /* each dupack: a segment has left */
		return false;
	}
	if (c->dupacks != 3)
		return false;
	/* RFC 6582 3.2 step 2: no new recovery for losses of the last. */
	if (tcp_lt(c->snd_una - 1, c->recover) && c->recover != c->iss)
		return false;
	*enter = true;
	return true;
}

void tcp_recovery_enter(struct tcp_conn *c)
{
	/* RFC 6675 5 step 4.2: cwnd = ssthresh, the pipe doing the rest;
	 * NewReno inflates by the three segments the dupacks say left. */
	c->cwnd = c->ssthresh + (c->sack_ok ? 0 : 3 * (uint32_t)c->mss);
	c->recover = c->snd_max;
	c->in_recovery = true;
}

void tcp_recovery_rto(struct tcp_conn *c)
{
	c->cwnd = c->mss;
	c->recover = c->snd_max;
	c->in_recovery = false;
}
