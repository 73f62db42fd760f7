/*
 * TCP input: segment arrival (RFC 9293 3.10.7) in the RFC's order of
 * checks, with RFC 5961's defences (RST and SYN inside the window get a
 * challenge ACK, an ACK outside the acceptable range is dropped) and
 * RFC 7323's PAWS.  Every segment is validated (length, data offset,
 * checksum, options) before any state is read; a bad one is counted and
 * dropped.
 */
#include <errno.h>
#include <string.h>

#include "tcp_internal.h"

/* A segment as parsed: header fields, options, payload in p. */
struct seg {
	const uint8_t *th;
	uint32_t seq, ack, len; /* len: payload + SYN + FIN */
	uint16_t wnd;
	uint8_t flags;
	struct tcp_opts o;
};

/* Applies the options of a SYN to c (both directions of open). */
static void syn_options(struct tcp_conn *c, struct netif *ifp,
			const struct tcp_opts *o)
{
	uint32_t mss = o->mss ? o->mss : TCP_MSS_DEFAULT;
	mss = tcp_min32(mss, ifp->mtu - IP_HLEN - TCP_HLEN);
	mss = tcp_min32(mss, NET_PKT_SIZE - TCP_HEADROOM);
	c->ws_ok = c->ws_ok && o->wscale >= 0;
	c->snd_wscale = c->ws_ok ? (uint8_t)o->wscale : 0;
	c->rcv_wscale = c->ws_ok ? tcp_our_wscale() : 0;
	c->sack_ok = c->sack_ok && o->sack_ok;
	c->ts_ok = c->ts_ok && o->ts;
	if (c->ts_ok) {
		c->ts_recent = o->tsval;
		mss -= 12;
	}
	c->mss = (uint16_t)(mss < 64 ? 64 : mss);
	tcp_cc.init(c);
}

/* RFC 5961 7 limits challenge ACKs; per connection rather than for the
 * whole host, since a shared limit is a side channel (CVE-2016-5696). */
static void challenge_ack(struct tcp_conn *c)
{
	uint64_t now = sched_now();
	if (now - c->challenge_at >= 1000 * TCP_MS) {
		c->challenge_at = now;
		c->challenges = 0;
	}
	if (c->challenges >= TCP_CHALLENGES_PER_S) {
		tcp_count.challenge_acks_limited++;
		return;
	}
	c->challenges++;
	tcp_count.challenge_acks++;
	tcp_send_ack(c);
}

static void conn_input(struct tcp_conn *c, struct netif *ifp, struct pkt *p,
		       struct seg *s);

/* Fills in a new connection of listener l for the segment s in p. */
static void passive(struct tcp_conn *c, struct netif *ifp,
		    struct tcp_listener *l, const struct pkt_meta *m,
		    const struct seg *s, uint32_t irs, uint32_t iss,
		    const struct tcp_opts *o)
{
	c->lip = m->dst_ip;
	c->rip = m->src_ip;
	c->lport = m->dst_port;
	c->rport = m->src_port;
	c->listener = l;
	l->pending++;
	c->irs = irs;
	c->rcv_nxt = irs + 1;
	c->iss = iss;
	c->snd_una = c->recover = c->iss;
	c->snd_nxt = c->snd_max = c->snd_end = c->iss + 1;
	c->ts_offset = tcp_ts_offset(c->lip, c->rip);
	syn_options(c, ifp, o);
	c->snd_wnd = s->wnd; /* a SYN's window is never scaled */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = irs;
	c->rcv_adv = c->rcv_nxt;
	c->last_recv = sched_now();
	tcp_set_state(c, TCP_SYN_RECEIVED);
	tcp_conn_hash(c);
}

static unsigned accept_queued(const struct tcp_listener *l)
{
	unsigned n = 0;
	for (const struct tcp_conn *c = l->aq_head; c; c = c->aq_next)
		n++;
	return n;
}

/* An ACK that brings back one of our SYN cookies opens the connection the
 * cookie stood for, then goes through SYN_RECEIVED as the handshake's ACK
 * would; true if it did (p consumed). */
static bool cookie_input(struct netif *ifp, struct tcp_listener *l,
			 struct pkt *p, const struct seg *s)
{
	struct pkt_meta *m = pkt_meta(p);
	int mss = tcp_cookie_mss(m->dst_ip, m->dst_port, m->src_ip, m->src_port,
				 s->seq - 1, s->ack - 1);
	if (mss < 0)
		return false;
	struct tcp_conn *c = accept_queued(l) < l->backlog && !tcp_pool_low()
				 ? tcp_conn_alloc()
				 : NULL;
	if (!c) {
		tcp_count.conns_refused++;
		return false;
	}
	struct tcp_opts o = {.mss = (uint16_t)mss, .wscale = -1};
	c->ws_ok = c->ts_ok = c->sack_ok = false;
	if (s->o.ts) {
		/* Our SYN-ACK had timestamps: its TSval, echoed, holds the
		 * SYN's other options (tcp_send_cookie_for). */
		tcp_cookie_opts_decode(s->o.tsecr, &o);
		o.ts = true;
		o.tsval = s->o.tsval;
		c->ws_ok = c->ts_ok = c->sack_ok = true;
	}
	passive(c, ifp, l, m, s, s->seq - 1, s->ack - 1, &o);
	tcp_count.syn_cookies_accepted++;
	struct seg copy = *s;
	conn_input(c, ifp, p, &copy);
	return true;
}

/* 3.10.7.2: a SYN to a listener makes a connection in SYN_RECEIVED, or,
 * when the backlog or the pool is full, gets a SYN cookie and no state.
 * True if p was consumed. */
static bool listen_input(struct netif *ifp, struct tcp_listener *l,
			 struct pkt *p, const struct seg *s)
{
	struct pkt_meta *m = pkt_meta(p);
	if (s->flags & TCP_RST)
		return false;
	if (s->flags & TCP_ACK) {
		if (!(s->flags & TCP_SYN) && cookie_input(ifp, l, p, s))
			return true;
		tcp_send_reset_for(ifp, m, s->th, s->len);
		return false;
	}
	if (!(s->flags & TCP_SYN)) {
		tcp_count.drop_no_conn++;
		return false;
	}
	struct tcp_conn *c = l->pending < l->backlog && !tcp_pool_low()
				 ? tcp_conn_alloc()
				 : NULL;
	if (!c) {
		tcp_count.listen_overflow++;
		uint16_t mss = s->o.mss ? s->o.mss : TCP_MSS_DEFAULT;
		tcp_send_cookie_for(
		    ifp, m, s->th,
		    tcp_cookie(m->dst_ip, m->dst_port, m->src_ip, m->src_port,
			       s->seq, tcp_min32(mss, ifp->mtu - 40)),
		    (uint16_t)tcp_min32(mss, ifp->mtu - 40), &s->o);
		return false;
	}
	c->ws_ok = c->ts_ok = c->sack_ok = true;
	passive(c, ifp, l, m, s, s->seq,
		tcp_isn(m->dst_ip, m->dst_port, m->src_ip, m->src_port), &s->o);
	tcp_send_ctl(c, TCP_SYN | TCP_ACK, c->iss);
	tcp_rtx_arm(c);
	return false;
}

/* 3.10.7.3 */
static void syn_sent_input(struct tcp_conn *c, struct netif *ifp, struct pkt *p,
			   const struct seg *s)
{
	bool ack_ok = false;
	if (s->flags & TCP_ACK) {
		if (tcp_le(s->ack, c->iss) || tcp_lt(c->snd_max, s->ack)) {
			tcp_count.drop_bad_ack++;
			if (!(s->flags & TCP_RST))
				tcp_send_reset_for(ifp, pkt_meta(p), s->th,
						   s->len);
			return;
		}
		ack_ok = true;
	}
	if (s->flags & TCP_RST) {
		if (ack_ok) {
			tcp_count.conns_refused++;
			tcp_conn_drop(c, -ECONNREFUSED);
		} else {
			tcp_count.drop_rst_invalid++;
		}
		return;
	}
	if (!(s->flags & TCP_SYN)) {
		tcp_count.drop_not_acceptable++;
		return;
	}
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	syn_options(c, ifp, &s->o);
	c->snd_wnd = s->wnd;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->last_recv = sched_now();
	if (ack_ok) {
		c->snd_una = s->ack;
		if (c->ts_ok && s->o.tsecr && !c->retries)
			tcp_rtt_sample(c, (tcp_ts_now(c) - s->o.tsecr) * 1000);
		c->t_rtx = 0;
		c->retries = 0;
		tcp_count.conns_opened_active++;
		tcp_set_state(c, TCP_ESTABLISHED);
		tcp_send_ack(c);
		return;
	}
	/* Simultaneous open. */
	tcp_set_state(c, TCP_SYN_RECEIVED);
	tcp_send_ctl(c, TCP_SYN | TCP_ACK, c->iss);
}

/* 3.10.7.4 first check: is any of the segment inside our window?
 * A segment at exactly RCV.NXT is taken even when the window is shut,
 * so its ACK and RST count (the RFC's special allowance). */
static bool acceptable(const struct tcp_conn *c, const struct seg *s)
{
	uint32_t wnd =
	    tcp_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;
	if (s->seq == c->rcv_nxt)
		return true;
	bool start_in =
	    tcp_le(c->rcv_nxt, s->seq) && tcp_lt(s->seq, c->rcv_nxt + wnd);
	if (s->len == 0 || wnd == 0)
		return start_in;
	uint32_t last = s->seq + s->len - 1;
	return start_in ||
	       (tcp_le(c->rcv_nxt, last) && tcp_lt(last, c->rcv_nxt + wnd));
}

static void established(struct tcp_conn *c)
{
	c->t_rtx = 0;
	c->retries = 0;
	tcp_set_state(c, TCP_ESTABLISHED);
	struct tcp_listener *l = c->listener;
	if (l) {
		c->aq_next = NULL;
		if (l->aq_tail)
			l->aq_tail->aq_next = c;
		else
			l->aq_head = c;
		l->aq_tail = c;
		sched_wake_one(&l->waiters);
		tcp_count.conns_opened_passive++;
	} else {
		tcp_count.conns_opened_active++; /* a simultaneous open */
	}
}

static void fin_acked(struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_FIN_WAIT_1:
		tcp_set_state(c, TCP_FIN_WAIT_2);
		if (!c->app_owned)
			tcp_keep_arm(c, TCP_FIN_WAIT2_MS);
		break;
	case TCP_CLOSING:
		tcp_set_state(c, TCP_TIME_WAIT);
		break;
	case TCP_LAST_ACK:
		tcp_conn_drop(c, 0);
		break;
	default:
		break;
	}
}

/* The fifth check: the ACK field.  False when the segment stops here. */
static bool ack_input(struct tcp_conn *c, const struct seg *s)
{
	uint32_t wnd = (uint32_t)s->wnd << c->snd_wscale;
	/* RFC 5961 5.2: acceptable from SND.UNA - MAX.SND.WND to SND.NXT. */
	if (tcp_lt(c->snd_max, s->ack)) {
		tcp_count.drop_bad_ack++;
		tcp_send_ack(c);
		return false;
	}
	if (tcp_lt(s->ack, c->snd_una - c->max_snd_wnd)) {
		tcp_count.drop_bad_ack++;
		challenge_ack(c);
		return false;
	}
	if (c->sack_ok && s->o.nsack)
		tcp_sack_update(c, &s->o);
	if (tcp_lt(c->snd_una, s->ack)) {
		uint32_t acked = s->ack - c->snd_una;
		if (c->ts_ok && s->o.ts && s->o.tsecr)
			tcp_rtt_sample(c, (tcp_ts_now(c) - s->o.tsecr) * 1000);
		else if (c->rtt_timing && tcp_le(c->rtt_seq, s->ack)) {
			c->rtt_timing = false;
			tcp_rtt_sample(
			    c, (uint32_t)((sched_now() - c->rtt_start) / 1000));
		}
		tcp_sndq_ack(c, s->ack);
		c->snd_una = s->ack;
		/* RFC 6298 5.2, 5.3: off when all is acknowledged, else
		 * restarted. */
		c->t_rtx = 0;
		if (c->snd_una != c->snd_max || c->snd_next_pkt)
			tcp_rtx_arm(c);
		c->retries = 0;
		c->dupacks = 0;
		if (tcp_cc.on_ack(c, acked)) {
			/* A partial ACK: with SACK what the pipe allows,
			 * else NewReno's next hole. */
			if (c->sack_ok)
				tcp_sack_recover(c);
			else
				tcp_retransmit_first(c);
			tcp_rtx_arm(c);
		}
		sched_wake_all(&c->writers);
		if (c->fin_sent && c->snd_una == c->fin_seq + 1) {
			fin_acked(c);
			if (!c->in_use || c->state == TCP_CLOSED)
				return false;
		}
	} else if (s->ack == c->snd_una && s->len == 0 &&
		   (wnd == c->snd_wnd || (c->sack_ok && s->o.nsack)) &&
		   c->snd_una != c->snd_max) {
		/* RFC 5681's duplicate ACK; with SACK blocks, whatever the
		 * window (a receiver's shrinks as out-of-order data fills it,
		 * RFC 6675's count of SACKed segments allows for this). */
		c->dupacks++;
		bool recovering = c->in_recovery;
		if (tcp_cc.on_dupack(c)) {
			tcp_count.fast_retransmits++;
			tcp_retransmit_first(c);
			if (c->sack_ok)
				tcp_sack_recover(c);
		} else if (recovering && c->sack_ok) {
			tcp_sack_recover(c);
		}
	}
	/* 3.10.7.4: the send window, from the newest segment only. */
	if (tcp_lt(c->snd_wl1, s->seq) ||
	    (c->snd_wl1 == s->seq && tcp_le(c->snd_wl2, s->ack))) {
		if (wnd > c->snd_wnd)
			sched_wake_all(&c->writers);
		c->snd_wnd = wnd;
		c->max_snd_wnd = tcp_max32(c->max_snd_wnd, wnd);
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
	}
	if (c->snd_una == c->snd_max)
		c->retries = 0; /* an answer to a window probe */
	return true;
}

/* Copies the small in-order payload p into the spare room of the last
 * packet on c's receive queue, so that a peer sending a few bytes at a
 * time cannot hold a packet each; false (nothing done) if it does not
 * fit. */
static bool merge(struct tcp_conn *c, struct pkt *p)
{
	struct pkt *tail = c->rcvq.tail;
	if (!tail || p->len > 512 ||
	    pkt_tailroom(tail) < (size_t)tail->len + p->len)
		return false;
	memcpy(tail->data + tail->len, p->data, p->len);
	tail->len += p->len;
	return true;
}

/* Whether in-order data may take a packet of the pool (tcp.h): above
 * the reserve; under it, data waiting on c's out-of-order queue goes
 * first, as Linux prunes it under memory pressure (RFC 2018 8 allows the
 * reneging: the peer sends it again once the hole is filled), and then
 * only a connection holding less than its minimum, from a share of the
 * reserve writes never need.  A connection refused so sheds one whose
 * peer does not read. */
static bool rcv_may_hold(struct tcp_conn *c)
{
	if (!tcp_pool_low())
		return true;
	struct pkt *p;
	while ((p = pkt_queue_pop(&c->ooq))) {
		c->rcv_queued -= p->len;
		tcp_count.ooo_pruned++;
		pkt_free(p);
	}
	if (!tcp_pool_low() || (c->rcvq.len < TCP_RCV_MIN_PKTS &&
				pkt_pool_free() >= TCP_RCV_MIN_FLOOR))
		return true;
	tcp_shed_stalled(c);
	return false;
}

/* Payload p (at p->data, already trimmed to the window) at sequence
 * number seq: queued in order, or out of order. */
static void data_input(struct tcp_conn *c, struct pkt *p, uint32_t seq)
{
	pkt_meta(p)->tcp_seq = seq;
	if (seq != c->rcv_nxt) {
		/* Out of order: sorted by sequence number, duplicates out. */
		struct pkt **pp = &c->ooq.head;
		for (; *pp; pp = &pkt_meta(*pp)->next) {
			uint32_t s0 = tcp_pkt_seq(*pp);
			if (tcp_le(s0, seq) &&
			    tcp_le(seq + p->len, s0 + (*pp)->len))
				goto drop_dup;
			if (tcp_lt(seq, s0))
				break;
		}
		if (c->ooq.len >= CONFIG_NET_TCP_OOO_MAX || tcp_pool_low()) {
			tcp_count.drop_ooo_full++;
			pkt_free(p);
			return;
		}
		pkt_meta(p)->next = *pp;
		if (!*pp)
			c->ooq.tail = p;
		*pp = p;
		c->ooq.len++;
		c->rcv_queued += p->len;
		tcp_count.ooo_queued++;
		c->sack_recent = seq;
		c->ack_now = true; /* a duplicate ACK, with SACK blocks */
		return;
	}
	uint32_t len = p->len;
	if (merge(c, p)) {
		pkt_free(p);
	} else if (!rcv_may_hold(c)) {
		/* Holding it would eat the share that lets the application
		 * write, and so read on (tcp.h): the peer sends it again. */
		tcp_count.drop_no_memory++;
		c->ack_now = true;
		pkt_free(p);
		return;
	} else {
		pkt_queue_push(&c->rcvq, p);
	}
	c->rcv_nxt += len;
	c->rcv_queued += len;
	bool filled = false;
	while ((p = c->ooq.head) && tcp_le(tcp_pkt_seq(p), c->rcv_nxt)) {
		pkt_queue_pop(&c->ooq);
		filled = true;
		uint32_t s0 = tcp_pkt_seq(p), end = s0 + p->len;
		if (tcp_le(end, c->rcv_nxt)) {
			c->rcv_queued -= p->len;
			pkt_free(p);
			continue;
		}
		uint32_t cut = c->rcv_nxt - s0;
		pkt_pull(p, cut);
		c->rcv_queued -= cut;
		if (merge(c, p))
			pkt_free(p);
		else
			pkt_queue_push(&c->rcvq, p);
		c->rcv_nxt = end;
	}
	/* RFC 5681 4.2: at once when a hole filled; for every second full
	 * segment by the end of the turn (one ACK for all a turn took in,
	 * as a receiver that coalesces frames sends); otherwise within
	 * TCP_DELACK_MS. */
	if (filled) {
		c->ack_now = true;
	} else if (c->delack_pending) {
		c->ack_turn = true;
	} else {
		c->delack_pending = true;
		tcp_delack_arm(c);
	}
	sched_wake_all(&c->readers);
	return;
drop_dup:
	c->sack_recent = seq;
	c->ack_now = true;
	pkt_free(p);
}

static void fin_input(struct tcp_conn *c)
{
	bool at_once = true;

	c->rcv_nxt++;
	c->rcv_fin = true;
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		/* The reader wakes to the end of the stream and often closes
		 * in this turn: its FIN then carries the ACK. */
		at_once = false;
		c->ack_turn = true;
		tcp_set_state(c, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		tcp_set_state(c, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		tcp_set_state(c, TCP_TIME_WAIT);
		break;
	case TCP_TIME_WAIT:
		tcp_keep_arm(c, CONFIG_NET_TCP_TIME_WAIT_MS);
		break;
	default:
		break;
	}
	if (at_once)
		c->ack_now = true;
	sched_wake_all(&c->readers);
}

/* 3.10.7.4, for every state from SYN_RECEIVED on.  Consumes p. */
static void conn_input(struct tcp_conn *c, struct netif *ifp, struct pkt *p,
		       struct seg *s)
{
	/* A retransmitted SYN: the SYN-ACK was lost. */
	if (c->state == TCP_SYN_RECEIVED && (s->flags & TCP_SYN) &&
	    !(s->flags & (TCP_ACK | TCP_RST)) && s->seq == c->irs) {
		tcp_send_ctl(c, TCP_SYN | TCP_ACK, c->iss);
		goto drop;
	}
	/* First: sequence number, and PAWS (RFC 7323 5.3). */
	if (!acceptable(c, s) ||
	    (c->ts_ok && s->o.ts && !(s->flags & TCP_RST) &&
	     tcp_lt(s->o.tsval, c->ts_recent))) {
		tcp_count.drop_not_acceptable++;
		if (!(s->flags & TCP_RST))
			tcp_send_ack(c);
		goto drop;
	}
	if (c->ts_ok && s->o.ts && tcp_le(s->seq, c->rcv_adv) &&
	    tcp_le(s->seq, c->rcv_nxt))
		c->ts_recent = s->o.tsval;
	c->last_recv = sched_now();
	/* Trim to the window: before RCV.NXT, then past the right edge
	 * (a SYN goes to the fourth check, whatever its number). */
	uint32_t seq = s->seq + !!(s->flags & TCP_SYN);
	uint32_t plen = pkt_frame_len(p);
	if (tcp_lt(seq, c->rcv_nxt)) {
		uint32_t cut = tcp_min32(c->rcv_nxt - seq, plen);
		pkt_chain_pull(p, cut);
		plen -= cut;
		seq += cut;
		if (tcp_lt(seq, c->rcv_nxt) && (s->flags & TCP_FIN))
			s->flags &= (uint8_t)~TCP_FIN; /* already had it */
	}
	uint32_t right =
	    tcp_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv : c->rcv_nxt;
	if (tcp_lt(right, seq + plen)) {
		plen = tcp_lt(seq, right) ? right - seq : 0;
		pkt_chain_trim(p, plen);
		s->flags &= (uint8_t)~TCP_FIN;
		c->ack_now = true; /* data dropped: say where the window is */
	}
	/* Second: RST (RFC 5961 3.2: only an exact one resets). */
	if (s->flags & TCP_RST) {
		if (s->seq != c->rcv_nxt) {
			tcp_count.drop_rst_invalid++;
			challenge_ack(c);
			goto drop;
		}
		tcp_count.conns_reset_in++;
		tcp_conn_drop(c, c->state == TCP_SYN_RECEIVED ? -ECONNREFUSED
							      : -ECONNRESET);
		goto drop;
	}
	/* Fourth: SYN (RFC 5961 4.2), or a new connection over TIME_WAIT. */
	if (s->flags & TCP_SYN) {
		tcp_count.drop_syn_invalid++;
		challenge_ack(c);
		goto drop;
	}
	/* Fifth: ACK. */
	if (!(s->flags & TCP_ACK)) {
		tcp_count.drop_bad_ack++;
		goto drop;
	}
	if (c->state == TCP_SYN_RECEIVED) {
		if (tcp_le(s->ack, c->snd_una) || tcp_lt(c->snd_max, s->ack)) {
			tcp_count.drop_bad_ack++;
			tcp_send_reset_for(ifp, pkt_meta(p), s->th, s->len);
			goto drop;
		}
		c->snd_wnd = (uint32_t)s->wnd << c->snd_wscale;
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		c->snd_una = s->ack;
		if (c->ts_ok && s->o.ts && s->o.tsecr && !c->retries)
			tcp_rtt_sample(c, (tcp_ts_now(c) - s->o.tsecr) * 1000);
		established(c);
	}
	if (!ack_input(c, s))
		goto drop;
	/* Seventh: the text. */
	bool fin = s->flags & TCP_FIN;
	uint32_t end = seq + plen;
	if (plen) {
		if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 &&
		    c->state != TCP_FIN_WAIT_2) {
			tcp_count.drop_out_of_window++;
			goto drop;
		}
		if (!c->app_owned && !c->listener) {
			/* Closed by the application: nobody will read. */
			tcp_count.drop_after_close++;
			tcp_count.conns_reset_out++;
			tcp_send_ctl(c, TCP_RST | TCP_ACK, c->snd_nxt);
			tcp_conn_drop(c, -ECONNRESET);
			goto drop;
		}
		tcp_count.bytes_in += plen;
		/* A coalesced frame's buffers go in one by one. */
		while (p) {
			struct pkt *next = pkt_meta(p)->frag;
			pkt_meta(p)->frag = NULL;
			uint32_t n = p->len;
			if (n)
				data_input(c, p, seq);
			else
				pkt_free(p);
			seq += n;
			p = next;
		}
	}
	/* Eighth: FIN, once everything before it has arrived. */
	if (fin && end == c->rcv_nxt)
		fin_input(c);
	/* An ACK that may wait for the end of the turn goes with what the
	 * turn sends then, unless one is due at once. */
	if (c->ack_turn && !c->ack_now)
		tcp_output_later(c);
	else
		tcp_output(c);
drop:
	pkt_free(p);
}

/* A SYN that may reopen connection c from TIME_WAIT: by timestamps when
 * both incarnations have them (RFC 6191: a later TSval, whatever the
 * sequence number), else by a sequence number above the old one's. */
static bool new_incarnation(const struct tcp_conn *c, const struct seg *s)
{
	if (c->ts_ok && s->o.ts)
		return tcp_lt(c->ts_recent, s->o.tsval);
	return tcp_lt(c->rcv_nxt, s->seq);
}

void tcp_input(struct netif *ifp, struct pkt *p)
{
	struct pkt_meta *m = pkt_meta(p);
	const uint8_t *th = p->data;
	tcp_count.segs_in++;
	uint32_t len = pkt_frame_len(p);
	if (p->len < TCP_HLEN || (th[12] >> 4) * 4u < TCP_HLEN ||
	    (th[12] >> 4) * 4u > p->len ||
	    (m->frag && (th[13] & (TCP_SYN | TCP_RST)))) {
		tcp_count.drop_malformed++;
		goto drop;
	}
	if (!m->csum_ok &&
	    net_csum_fold(net_csum_frame(
		net_csum_pseudo(m->src_ip, m->dst_ip, IPPROTO_TCP, len), p)) !=
		0) {
		tcp_count.drop_bad_checksum++;
		goto drop;
	}
	if (m->dst_ip != ifp->ip) {
		tcp_count.drop_malformed++; /* broadcast */
		goto drop;
	}
	unsigned hlen = (th[12] >> 4) * 4u;
	struct seg s = {.th = th,
			.seq = get32(th + 4),
			.ack = get32(th + 8),
			.flags = th[13],
			.wnd = get16(th + 14)};
	if (!tcp_opt_parse(th, hlen, s.flags & TCP_SYN, &s.o)) {
		tcp_count.drop_bad_options++;
		goto drop;
	}
	if (m->reassembled) {
		/* Out of the reassembly slot, which must not stay held. */
		struct pkt *q = pkt_alloc();
		if (!q || p->len > NET_PKT_SIZE - TCP_HEADROOM) {
			tcp_count.drop_no_memory++;
			pkt_free(q);
			goto drop;
		}
		pkt_reserve(q, TCP_HEADROOM);
		memcpy(q->data, p->data, p->len);
		q->len = p->len;
		pkt_meta(q)->ifp = m->ifp;
		pkt_meta(q)->src_ip = m->src_ip;
		pkt_meta(q)->dst_ip = m->dst_ip;
		pkt_meta(q)->ip_hlen = m->ip_hlen;
		pkt_free(p);
		p = q;
		m = pkt_meta(p);
		th = p->data;
		s.th = th;
	}
	m->src_port = get16(th);
	m->dst_port = get16(th + 2);
	pkt_pull(p, hlen);
	s.len = len - hlen + !!(s.flags & TCP_SYN) + !!(s.flags & TCP_FIN);
	struct tcp_conn *c =
	    tcp_conn_lookup(m->dst_ip, m->dst_port, m->src_ip, m->src_port);
	if (c && c->state == TCP_TIME_WAIT && (s.flags & TCP_SYN) &&
	    !(s.flags & (TCP_ACK | TCP_RST)) && new_incarnation(c, &s) &&
	    tcp_listener_lookup(m->dst_port)) {
		/* RFC 9293 3.6.1: a new incarnation may take over. */
		tcp_conn_free(c);
		c = NULL;
	}
	if (c && c->state == TCP_SYN_SENT) {
		syn_sent_input(c, ifp, p, &s);
	} else if (c) {
		conn_input(c, ifp, p, &s);
		return;
	} else {
		struct tcp_listener *l =
		    m->dst_port ? tcp_listener_lookup(m->dst_port) : NULL;
		if (l) {
			if (listen_input(ifp, l, p, &s))
				return;
		} else {
			/* 3.10.7.1: CLOSED answers with RST, never to one. */
			tcp_count.drop_no_conn++;
			if (!(s.flags & TCP_RST))
				tcp_send_reset_for(ifp, m, th, s.len);
		}
	}
drop:
	pkt_free(p);
}
