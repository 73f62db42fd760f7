/*
 * CUBIC congestion control (RFC 9438; CONFIG_NET_TCP_CC 2): after a loss
 * the window grows as a cubic function of the time since, W(t) = C (t -
 * K)^3 + W_max, flat near the window where the loss happened and fast far
 * from it, never slower than Reno's would (the Reno-friendly region).
 * Slow start and recovery are NewReno's (tcp_recovery.c).
 *
 * Integer arithmetic only (the guest has no FPU registers to spare): time
 * in milliseconds, windows in bytes, C = 0.4 = 2/5 and beta = 0.7 = 7/10
 * as fractions, and the cube root by bisection.
 */
#include "tcp_internal.h"

#if CONFIG_NET_TCP_CC == 2

#define BETA_NUM 7 /* beta_cubic = 7/10 */
#define BETA_DEN 10
#define T_MAX_MS 100000 /* (t - K) is clamped: 100 s of growth */

static void init(struct tcp_conn *c)
{
	c->cwnd = 10 * (uint32_t)c->mss;
	c->ssthresh = UINT32_MAX;
	c->cubic_w_max = 0;
	c->cubic_epoch = 0;
}

static uint64_t cbrt64(uint64_t x)
{
	uint64_t lo = 0, hi = 2097152; /* 2^21: its cube exceeds 2^63 */
	while (lo < hi) {
		uint64_t mid = (lo + hi + 1) / 2;
		if (mid * mid * mid <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* RFC 9438 4.2: K = cbrt((W_max - cwnd_epoch) / C) seconds in segments;
 * in ms, cbrt((W_max - cwnd) / MSS * 5/2 * 10^9). */
static uint32_t k_ms(const struct tcp_conn *c)
{
	uint64_t gap = c->cubic_w_max - c->cwnd;
	return (uint32_t)cbrt64(gap * 2500000000ULL / c->mss);
}

/* W_cubic(t) in bytes, t ms since the epoch began. */
static uint64_t w_cubic(const struct tcp_conn *c, uint64_t t)
{
	int64_t d = (int64_t)t - (int64_t)c->cubic_k;
	if (d > T_MAX_MS)
		d = T_MAX_MS;
	if (d < -T_MAX_MS)
		d = -T_MAX_MS;
	/* C d^3 segments with d in ms: 2/5 * d^3 / 10^9. */
	int64_t grow = 2 * d * d * d / 5 * (int64_t)c->mss / 1000000000LL;
	int64_t w = (int64_t)c->cubic_w_max + grow;
	return w < (int64_t)c->mss ? c->mss : (uint64_t)w;
}

static void grow(struct tcp_conn *c, uint32_t acked)
{
	uint64_t now = sched_now() / TCP_MS;
	if (!c->cubic_epoch) {
		/* A new epoch (RFC 9438 4.2): from the window now. */
		c->cubic_epoch = now ? now : 1;
		if (c->cwnd < c->cubic_w_max) {
			c->cubic_k = k_ms(c);
		} else {
			c->cubic_k = 0;
			c->cubic_w_max = c->cwnd;
		}
		c->cubic_w_est = c->cwnd;
	}
	uint64_t srtt_ms = c->srtt / 1000;
	uint64_t target = w_cubic(c, now - c->cubic_epoch + srtt_ms);
	/* 4.3: Reno's estimate, alpha = 3 (1 - beta) / (1 + beta). */
	c->cubic_w_est +=
	    (uint32_t)((uint64_t)3 * (BETA_DEN - BETA_NUM) * acked * c->mss /
		       ((BETA_DEN + BETA_NUM) * (uint64_t)c->cwnd));
	if (target < c->cubic_w_est) {
		c->cwnd = tcp_max32(c->cwnd, c->cubic_w_est);
		return;
	}
	/* 4.4: toward the target, at most 1.5x the window per RTT. */
	if (target > c->cwnd + c->cwnd / 2)
		target = c->cwnd + c->cwnd / 2;
	if (target > c->cwnd)
		c->cwnd += tcp_max32(
		    1, (uint32_t)((target - c->cwnd) * acked / c->cwnd));
}

static bool on_ack(struct tcp_conn *c, uint32_t acked)
{
	if (c->in_recovery)
		return tcp_recovery_ack(c, acked);
	if (c->cwnd < c->ssthresh)
		c->cwnd += tcp_min32(acked, 2 * (uint32_t)c->mss);
	else
		grow(c, acked);
	return false;
}

/* 4.6 and 4.7: the window where the loss happened, less with fast
 * convergence when it is below the last one; the cut to beta. */
static void loss(struct tcp_conn *c)
{
	uint32_t w = c->cwnd;
	if (w < c->cubic_w_max)
		c->cubic_w_max =
		    (uint32_t)((uint64_t)w * (BETA_DEN + BETA_NUM) /
			       (2 * BETA_DEN));
	else
		c->cubic_w_max = w;
	c->ssthresh =
	    tcp_max32((uint32_t)((uint64_t)tcp_flight(c) * BETA_NUM / BETA_DEN),
		      2 * (uint32_t)c->mss);
	c->cubic_epoch = 0;
}

static bool on_dupack(struct tcp_conn *c)
{
	bool enter;
	if (!tcp_recovery_dupack(c, &enter) || !enter)
		return false;
	loss(c);
	tcp_recovery_enter(c);
	return true;
}

static void on_rto(struct tcp_conn *c)
{
	loss(c);
	tcp_recovery_rto(c);
}

const struct tcp_cc_ops tcp_cc = {init, on_ack, on_dupack, on_rto};

#endif
