/*
 * TCP timers: retransmission timeout per RFC 6298 (Karn's rule, backoff),
 * SYN retransmission, zero-window probes (persist), delayed ACKs,
 * keepalive, FIN_WAIT_2 for orphans and TIME_WAIT.
 *
 * Each connection keeps three deadlines; one sched_timer serves the whole
 * pool, armed at the earliest deadline, so connections cost no timer slot
 * and an idle guest no wakeup.  When it fires, it scans the pool.
 */
#include <errno.h>

#include "tcp_internal.h"

static struct sched_timer timer;
static bool timer_ready;

static void tick(struct sched_timer *t);

void tcp_timer_kick(uint64_t deadline)
{
	if (!timer_ready) {
		sched_timer_init(&timer, tick, NULL);
		timer_ready = true;
	}
	if (!sched_timer_armed(&timer) || deadline < timer.deadline)
		sched_timer_arm(&timer, deadline);
}

void tcp_rtx_arm(struct tcp_conn *c)
{
	if (!c->t_rtx) {
		c->t_rtx = sched_now() + c->rto_ms * TCP_MS;
		tcp_timer_kick(c->t_rtx);
	}
}

void tcp_delack_arm(struct tcp_conn *c)
{
	if (!c->t_delack) {
		c->t_delack = sched_now() + TCP_DELACK_MS * TCP_MS;
		tcp_timer_kick(c->t_delack);
	}
}

void tcp_keep_arm(struct tcp_conn *c, uint64_t ms)
{
	c->t_keep = sched_now() + ms * TCP_MS;
	tcp_timer_kick(c->t_keep);
}

/* RFC 6298 2.2-2.4, in microseconds; the floor is Linux's 200 ms. */
void tcp_rtt_sample(struct tcp_conn *c, uint32_t r)
{
	if (!r)
		r = 1;
	if (!c->srtt) {
		c->srtt = r;
		c->rttvar = r / 2;
	} else {
		uint32_t d = c->srtt > r ? c->srtt - r : r - c->srtt;
		c->rttvar = c->rttvar - c->rttvar / 4 + d / 4;
		c->srtt = c->srtt - c->srtt / 8 + r / 8;
	}
	uint64_t rto = (c->srtt + 4 * (uint64_t)c->rttvar) / 1000;
	c->rto_ms = (uint32_t)(rto < TCP_RTO_MIN_MS   ? TCP_RTO_MIN_MS
			       : rto > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS
						      : rto);
}

static void backoff(struct tcp_conn *c)
{
	c->rto_ms =
	    c->rto_ms * 2 > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : c->rto_ms * 2;
}

/* The peer stopped answering: reset it, report -ETIMEDOUT. */
static void give_up(struct tcp_conn *c)
{
	tcp_count.conns_timed_out++;
	if (c->state != TCP_SYN_SENT)
		tcp_send_ctl(c, TCP_RST | TCP_ACK, c->snd_nxt);
	tcp_conn_drop(c, -ETIMEDOUT);
}

static void rtx_due(struct tcp_conn *c)
{
	c->t_rtx = 0;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
		if (++c->retries > TCP_SYN_RETRIES) {
			give_up(c);
			return;
		}
		tcp_count.retransmits++;
		backoff(c);
		tcp_send_ctl(
		    c, TCP_SYN | (c->state == TCP_SYN_RECEIVED ? TCP_ACK : 0),
		    c->iss);
		tcp_rtx_arm(c);
		return;
	}
	if (c->snd_una == c->snd_max) {
		/* Nothing in flight: the peer's window is shut (or the pool
		 * was empty).  Probe with an old sequence number, which
		 * makes the peer answer with its window. */
		struct pkt *p = c->snd_next_pkt;
		if (p && tcp_min32(pkt_meta(p)->tcp_len, c->mss) > c->snd_wnd) {
			/* A peer that answers no probe is gone; one that
			 * answers keeps its window shut as long as it likes
			 * (ack_input resets the count). */
			if (++c->retries > TCP_RETRIES) {
				give_up(c);
				return;
			}
			tcp_count.zero_window_probes++;
			tcp_send_ctl(c, TCP_ACK, c->snd_una - 1);
			backoff(c);
			tcp_rtx_arm(c);
		} else {
			tcp_output(c);
		}
		return;
	}
	if (++c->retries > TCP_RETRIES) {
		give_up(c);
		return;
	}
	/* RFC 6298 5.4-5.6: back to the first unacknowledged segment. */
	tcp_count.rto_timeouts++;
	tcp_cc.on_rto(c);
	backoff(c);
	c->snd_nxt = c->snd_una;
	c->snd_next_pkt = c->sndq.head;
	for (struct pkt *p = c->sndq.head; p; p = pkt_meta(p)->tcp_next)
		pkt_meta(p)->tcp_rexmit = 0;
	c->dupacks = 0;
	c->in_recovery = false;
	c->rtt_timing = false;
	tcp_count.retransmits++;
	tcp_output(c);
	tcp_rtx_arm(c);
}

static void keep_due(struct tcp_conn *c, uint64_t now)
{
	const uint64_t idle_ms = c->keep_idle_ms;
	c->t_keep = 0;
	switch (c->state) {
	case TCP_TIME_WAIT:
	case TCP_FIN_WAIT_2:
		tcp_conn_drop(c, 0);
		return;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		if (!idle_ms)
			return;
		if (now - c->last_recv < idle_ms * TCP_MS) {
			c->keep_probes = 0;
			tcp_keep_arm(c,
				     idle_ms - (now - c->last_recv) / TCP_MS);
			return;
		}
		if (c->keep_probes++ >= c->keep_probes_max) {
			give_up(c);
			return;
		}
		tcp_count.keepalive_probes++;
		tcp_send_ctl(c, TCP_ACK, c->snd_una - 1);
		tcp_keep_arm(c, c->keep_intvl_ms);
		return;
	default:
		return;
	}
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

static void tick(struct sched_timer *t)
{
	uint64_t now = sched_now(), next = 0;
	(void)t;
	for (unsigned i = 0; i < CONFIG_NET_TCP_CONNS; i++) {
		struct tcp_conn *c = &tcp_conns[i];
		if (!c->in_use)
			continue;
		if (c->t_delack && c->t_delack <= now) {
			c->t_delack = 0;
			if (c->delack_pending) {
				tcp_count.delayed_acks++;
				tcp_send_ack(c);
			}
		}
		if (c->t_rtx && c->t_rtx <= now)
			rtx_due(c);
		if (c->in_use && c->t_keep && c->t_keep <= now)
			keep_due(c, now);
		if (c->in_use)
			next = earliest(
			    next, earliest(c->t_rtx,
					   earliest(c->t_delack, c->t_keep)));
	}
	if (next)
		sched_timer_arm(&timer, next);
}
