/*
 * TCP output: segments built in place in their packets' headroom, the
 * send queue (written data stays there until acknowledged), the receive
 * window we advertise (with receiver-side silly window avoidance, RFC 9293
 * 3.8.6.2.2), Nagle, and retransmission of the queue's first segment.
 *
 * A segment on the send queue is sent by lending its packet to the TX
 * path (pkt_ref): no copy.  A packet still lent when it must go again (a
 * retransmission before the host took the first copy) is copied instead,
 * since its header bytes are in use.
 */
#include <assert.h>
#include <string.h>

#include "tcp_internal.h"

uint32_t tcp_ts_now(const struct tcp_conn *c)
{
	return (uint32_t)(sched_now() / TCP_MS) + c->ts_offset;
}

/* Free receive space, in whole units of our window scale. */
static uint32_t rcv_space(const struct tcp_conn *c)
{
	uint32_t free = CONFIG_NET_TCP_RCVBUF > c->rcv_queued
			    ? CONFIG_NET_TCP_RCVBUF - c->rcv_queued
			    : 0;
	free = tcp_min32(free, 65535u << c->rcv_wscale);
	return free & ~((1u << c->rcv_wscale) - 1);
}

static uint32_t sws_threshold(const struct tcp_conn *c)
{
	return tcp_min32(CONFIG_NET_TCP_RCVBUF / 2, c->mss);
}

/* The window to advertise: the right edge never moves left, and moves
 * right only by a worthwhile amount (receiver SWS avoidance). */
uint32_t tcp_rcv_window(const struct tcp_conn *c)
{
	uint32_t right = c->rcv_nxt + rcv_space(c);
	if (tcp_lt(c->rcv_adv, right) &&
	    (right - c->rcv_adv >= sws_threshold(c) ||
	     tcp_le(c->rcv_adv, c->rcv_nxt)))
		return right - c->rcv_nxt;
	return tcp_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;
}

void tcp_window_update(struct tcp_conn *c)
{
	if (c->state < TCP_ESTABLISHED || c->rcv_fin)
		return;
	uint32_t right = c->rcv_nxt + rcv_space(c);
	uint32_t seen =
	    tcp_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;
	/* The window reopening after the app read: tell the peer once it
	 * has at least doubled (as Linux does), or a peer that saw it (near)
	 * shut waits for its persist timer; not at every read, which would
	 * be an ACK per buffer. */
	if (tcp_lt(c->rcv_adv, right) &&
	    right - c->rcv_adv >= sws_threshold(c) &&
	    right - c->rcv_nxt >= 2 * seen)
		tcp_send_ack(c);
}

/* Our SACK blocks: the out-of-order queue's runs of contiguous data, the
 * one holding the latest segment first (RFC 2018 4), then the others in
 * sequence order. */
static void sack_blocks(const struct tcp_conn *c, struct tcp_opts *o)
{
	uint32_t run[2] = {0, 0}, recent[2] = {0, 0}, others[TCP_SACK_MAX][2];
	unsigned nothers = 0;
	bool have = false, have_recent = false;
	for (struct pkt *p = c->ooq.head;; p = pkt_meta(p)->next) {
		uint32_t l = p ? tcp_pkt_seq(p) : 0, r = p ? l + p->len : 0;
		if (p && have && tcp_le(l, run[1])) {
			if (tcp_lt(run[1], r))
				run[1] = r;
			continue;
		}
		if (have) {
			if (tcp_le(run[0], c->sack_recent) &&
			    tcp_lt(c->sack_recent, run[1])) {
				recent[0] = run[0];
				recent[1] = run[1];
				have_recent = true;
			} else if (nothers < TCP_SACK_MAX - 1) {
				others[nothers][0] = run[0];
				others[nothers][1] = run[1];
				nothers++;
			}
		}
		if (!p)
			break;
		run[0] = l;
		run[1] = r;
		have = true;
	}
	o->nsack = 0;
	if (have_recent) {
		o->sack[0][0] = recent[0];
		o->sack[0][1] = recent[1];
		o->nsack = 1;
	}
	for (unsigned i = 0; i < nothers; i++) {
		o->sack[o->nsack][0] = others[i][0];
		o->sack[o->nsack][1] = others[i][1];
		o->nsack++;
	}
}

/* Puts the header before p's payload (the rest of the frame: p's data and
 * external bytes, and its further pieces) and its checksum, or asks for it
 * from the host when ifp offloads it. */
static void put_header(struct netif *ifp, struct pkt *p, uint32_t lip,
		       uint32_t rip, uint16_t lport, uint16_t rport,
		       uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		       const struct tcp_opts *o)
{
	uint8_t opt[40];
	unsigned olen = o ? tcp_opt_build(opt, o) : 0;
	while (olen % 4)
		opt[olen++] = 0; /* EOL */
	uint8_t *h = pkt_push(p, TCP_HLEN + olen);
	put16(h, lport);
	put16(h + 2, rport);
	put32(h + 4, seq);
	put32(h + 8, ack);
	h[12] = (uint8_t)((TCP_HLEN + olen) / 4 << 4);
	h[13] = flags;
	put16(h + 14, wnd);
	put16(h + 16, 0);
	put16(h + 18, 0);
	memcpy(h + TCP_HLEN, opt, olen);
	net_csum_l4(ifp, p, h, IPPROTO_TCP, lip, rip, pkt_frame_len(p), 16);
}

static void send_ip(struct netif *ifp, uint32_t nh, uint32_t lip, uint32_t rip,
		    struct pkt *p)
{
	if (!ifp) {
		net_global.ip_drop_no_route++;
		pkt_free(p);
		return;
	}
	tcp_count.segs_out++;
	pkt_meta(p)->tx_keep = true;
	ipv4_send(ifp, p, IPPROTO_TCP, lip, rip, nh);
}

/* Sends p, a segment answering the one whose meta is m. */
static void send_reply(const struct pkt_meta *m, struct pkt *p)
{
	uint32_t nh;
	struct netif *ifp = ipv4_route(m->src_ip, &nh);
	send_ip(ifp, nh, m->dst_ip, m->src_ip, p);
}

/* Sends p (payload from p->data on: the frame's rest) as a segment of c;
 * consumes p. */
static void xmit(struct tcp_conn *c, struct pkt *p, uint32_t seq, uint8_t flags)
{
	struct tcp_opts o = {.wscale = -1};
	uint32_t wnd, nh, plen = pkt_frame_len(p);
	struct netif *ifp = ipv4_route(c->rip, &nh);
	if (flags & TCP_SYN) {
		/* Before the peer's SYN, ws_ok, ts_ok and sack_ok say what we
		 * offer; after it, what both sides agreed to (RFC 7323). */
		o.mss = (uint16_t)(ifp ? ifp->mtu - IP_HLEN - TCP_HLEN
				       : TCP_MSS_DEFAULT);
		o.wscale = c->ws_ok ? (int8_t)c->rcv_wscale : -1;
		o.sack_ok = c->sack_ok;
		o.ts = c->ts_ok;
		wnd = tcp_min32(rcv_space(c), 65535);
		c->rcv_adv = c->rcv_nxt + wnd;
	} else {
		o.ts = c->ts_ok;
		wnd = tcp_rcv_window(c);
		if (c->sack_ok && c->ooq.head && plen == 0)
			sack_blocks(c, &o);
	}
	o.tsval = tcp_ts_now(c);
	o.tsecr = c->ts_recent;
	if (flags & TCP_ACK) {
		if (!(flags & TCP_SYN)) {
			c->rcv_adv = c->rcv_nxt + wnd;
			wnd >>= c->rcv_wscale;
		}
		c->ack_now = c->ack_turn = c->delack_pending = false;
		c->t_delack = 0;
	}
	tcp_count.bytes_out += plen;
	put_header(ifp, p, c->lip, c->rip, c->lport, c->rport, seq,
		   flags & TCP_ACK ? c->rcv_nxt : 0, flags,
		   (uint16_t)tcp_min32(wnd, 65535), &o);
	send_ip(ifp, nh, c->lip, c->rip, p);
}

void tcp_send_ctl(struct tcp_conn *c, uint8_t flags, uint32_t seq)
{
	struct pkt *p = pkt_alloc();
	if (!p) {
		net_global.drop_no_buffer++;
		return;
	}
	pkt_reserve(p, TCP_HEADROOM);
	xmit(c, p, seq, flags);
}

void tcp_send_ack(struct tcp_conn *c)
{
	tcp_send_ctl(c, TCP_ACK, c->snd_nxt);
}

void tcp_send_reset_for(struct netif *ifp, const struct pkt_meta *m,
			const uint8_t *th, uint32_t seglen)
{
	if (m->dst_ip != ifp->ip)
		return; /* never to a broadcast */
	struct pkt *p = pkt_alloc();
	if (!p) {
		ifp->count.drop_no_buffer++;
		return;
	}
	pkt_reserve(p, TCP_HEADROOM);
	uint32_t seq = 0, ack = 0;
	uint8_t flags = TCP_RST;
	if (th[13] & TCP_ACK) {
		seq = get32(th + 8);
	} else {
		ack = get32(th + 4) + seglen;
		flags |= TCP_ACK;
	}
	tcp_count.resets_sent++;
	put_header(ifp, p, m->dst_ip, m->src_ip, get16(th + 2), get16(th), seq,
		   ack, flags, 0, NULL);
	send_reply(m, p);
}

/* A SYN-ACK with a SYN cookie for the SYN at th, whose options are o: no
 * connection holds it.  With timestamps, the peer's window scale and
 * SACK-permitted ride in our TSval's low bits (tcp_cookie_opts), so that
 * the connection the cookie opens has them (as Linux's cookies do). */
void tcp_send_cookie_for(struct netif *ifp, const struct pkt_meta *m,
			 const uint8_t *th, uint32_t cookie, uint16_t mss,
			 const struct tcp_opts *syn)
{
	if (m->dst_ip != ifp->ip)
		return;
	struct pkt *p = pkt_alloc();
	if (!p) {
		ifp->count.drop_no_buffer++;
		return;
	}
	pkt_reserve(p, TCP_HEADROOM);
	struct tcp_opts o = {.mss = mss, .wscale = -1};
	if (syn->ts) {
		uint32_t now = (uint32_t)(sched_now() / TCP_MS) +
			       tcp_ts_offset(m->dst_ip, m->src_ip);
		o.ts = true;
		o.tsval = (now & ~TCP_COOKIE_OPT_MASK) | tcp_cookie_opts(syn);
		o.tsecr = syn->tsval;
		o.sack_ok = syn->sack_ok;
		o.wscale = syn->wscale >= 0 ? (int8_t)tcp_our_wscale() : -1;
	}
	uint16_t wnd =
	    CONFIG_NET_TCP_RCVBUF < 65535 ? CONFIG_NET_TCP_RCVBUF : 65535;
	tcp_count.syn_cookies_sent++;
	put_header(ifp, p, m->dst_ip, m->src_ip, get16(th + 2), get16(th),
		   cookie, get32(th + 4) + 1, TCP_SYN | TCP_ACK, wnd, &o);
	send_reply(m, p);
}

/* Lends queued segment q to a frame: its payload becomes q's data, or
 * its external bytes (image data) after an empty data. */
static void lend(struct pkt *q)
{
	struct pkt_meta *m = pkt_meta(q);
	pkt_ref(q);
	if (m->tcp_ext) {
		q->data = m->buf + TCP_HEADROOM;
		q->len = 0;
		m->tx_ext = m->tcp_ext;
		m->tx_ext_len = m->tcp_len;
	} else {
		q->data = m->buf + m->tcp_off;
		q->len = m->tcp_len;
	}
}

/*
 * Sends the n queued segments from p as one frame (n > 1: a TSO frame the
 * host cuts into segments of our MSS), lent; a first segment still lent to
 * an earlier frame goes alone in a fresh packet instead, its payload
 * copied unless it is image data.  False if the pool is empty.
 */
bool tcp_send_queued(struct tcp_conn *c, struct pkt *p, unsigned n,
		     uint8_t flags)
{
	struct pkt_meta *m = pkt_meta(p);
	struct pkt *s = p;
	if (m->refs) {
		s = pkt_alloc();
		if (!s) {
			net_global.drop_no_buffer++;
			return false;
		}
		pkt_reserve(s, TCP_HEADROOM);
		if (m->tcp_ext) {
			pkt_meta(s)->tx_ext = m->tcp_ext;
			pkt_meta(s)->tx_ext_len = m->tcp_len;
		} else {
			memcpy(s->data, tcp_pkt_payload(p), m->tcp_len);
			s->len = m->tcp_len;
		}
		n = 1;
	} else {
		lend(p);
		struct pkt **link = &m->frag;
		for (struct pkt *q = m->tcp_next; --n;
		     q = pkt_meta(q)->tcp_next) {
			lend(q);
			*link = q;
			link = &pkt_meta(q)->frag;
		}
	}
	/* More than a segment's payload (several segments, or one of image
	 * data): the host cuts it. */
	if (pkt_frame_len(s) > c->mss) {
		pkt_meta(s)->tx_flags |= INGOT_NET_SLOT_TSO4;
		pkt_meta(s)->tx_gso_size = c->mss;
	}
	xmit(c, s, m->tcp_seq, flags);
	return true;
}

bool tcp_resend(struct tcp_conn *c, struct pkt *p)
{
	if (pkt_meta(p)->tcp_len > c->mss && !tcp_seg_split(c, p, c->mss))
		return false;
	pkt_meta(p)->tcp_rexmit = 1;
	return tcp_send_queued(c, p, 1, TCP_ACK);
}

/* Cuts segment p, next to leave, to what the window wnd takes (whole
 * segments), or to one segment where ifp cannot cut a frame; false if it
 * needed cutting and the pool is empty.  One that does not fit a segment
 * in the window waits whole. */
static bool cut_to_window(struct tcp_conn *c, struct netif *ifp, struct pkt *p,
			  uint32_t wnd)
{
	struct pkt_meta *m = pkt_meta(p);
	uint32_t off = m->tcp_seq - c->snd_una, n = c->mss;
	if (m->tcp_len <= c->mss || off + c->mss > wnd)
		return true;
	if (ifp && (ifp->features & INGOT_NET_F_TSO4))
		n = (wnd - off) - (wnd - off) % c->mss;
	return n >= m->tcp_len || tcp_seg_split(c, p, n);
}

/*
 * How many queued segments from p (which may go) go in its frame: more
 * than one only through an interface with TSO, each unlent, unSACKed and
 * inside the window, and a short one only last and when Nagle would let
 * it go.  *last_end gets the end of the last.
 */
static unsigned frame_run(struct tcp_conn *c, struct netif *ifp, struct pkt *p,
			  uint32_t wnd, uint32_t *last_end)
{
	struct pkt_meta *m = pkt_meta(p);
	unsigned n = 1, slots = m->tcp_ext ? 2 : 1;
	uint32_t bytes = m->tcp_len;
	*last_end = m->tcp_seq + m->tcp_len;
	if (!ifp || !(ifp->features & INGOT_NET_F_TSO4) || m->refs)
		return 1;
	for (struct pkt *q = m->tcp_next; q; q = pkt_meta(q)->tcp_next) {
		struct pkt_meta *qm = pkt_meta(q);
		uint32_t end = qm->tcp_seq + qm->tcp_len;
		if (qm->refs || qm->tcp_sacked || end - c->snd_una > wnd ||
		    bytes + qm->tcp_len > tcp_tso_max(c) ||
		    slots + 1 > INGOT_NET_CHAIN_MAX - 1)
			break;
		if (qm->tcp_len < c->mss &&
		    (qm->tcp_next || !(c->nodelay || c->fin_queued)))
			break;
		n++;
		slots++;
		bytes += qm->tcp_len;
		*last_end = end;
	}
	return n;
}

static bool can_send_data(const struct tcp_conn *c)
{
	return c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT ||
	       c->state == TCP_FIN_WAIT_1 || c->state == TCP_CLOSING ||
	       c->state == TCP_LAST_ACK;
}

/* Connections stopped by a full TX queue, first stopped first. */
static struct tcp_conn *txq_head, **txq_tail = &txq_head;

/* Sends for them while the TX queue has room: one that stops again goes
 * to the back of the line, with the queue at half, which ends the loop. */
static void txq_room(void)
{
	struct tcp_conn *c;
	while ((c = txq_head)) {
		txq_head = c->txq_next;
		if (!txq_head)
			txq_tail = &txq_head;
		c->txq_waiting = false;
		tcp_output(c);
		if (c->txq_waiting)
			break;
	}
}

static void txq_wait(struct tcp_conn *c)
{
	if (c->txq_waiting)
		return;
	net_txq_room_hook = txq_room;
	c->txq_waiting = true;
	c->txq_next = NULL;
	*txq_tail = c;
	txq_tail = &c->txq_next;
}

static void txq_forget(struct tcp_conn *c)
{
	if (!c->txq_waiting)
		return;
	struct tcp_conn **pp = &txq_head;
	while (*pp != c)
		pp = &(*pp)->txq_next;
	*pp = c->txq_next;
	if (!*pp)
		txq_tail = pp;
	c->txq_waiting = false;
}

void tcp_output(struct tcp_conn *c)
{
	if (!can_send_data(c))
		goto ack;
	uint32_t nh;
	struct netif *ifp = ipv4_route(c->rip, &nh);
	/* RFC 5681 4.1: after an idle RTO, slow start again from the initial
	 * window rather than burst a stale one. */
	uint64_t now = sched_now();
	if (c->snd_una == c->snd_max && c->last_send &&
	    now - c->last_send > c->rto_ms * TCP_MS)
		c->cwnd = tcp_min32(c->cwnd, 10 * (uint32_t)c->mss);
	/* Limited transmit (RFC 3042): the first two duplicate ACKs each let
	 * one new segment out, so a small window still gets its third. */
	uint32_t lt = c->in_recovery ? 0 : tcp_min32(c->dupacks, 2) * c->mss;
	uint32_t wnd = tcp_min32(c->snd_wnd, c->cwnd + lt);
	for (struct pkt *p = c->snd_next_pkt; p; p = c->snd_next_pkt) {
		struct pkt_meta *m = pkt_meta(p);
		uint32_t end = m->tcp_seq + m->tcp_len;
		if (m->tcp_sacked && tcp_le(end, c->snd_max)) {
			/* Going back after a timeout: the peer has it. */
			c->snd_nxt = end;
			c->snd_next_pkt = m->tcp_next;
			continue;
		}
		if (!cut_to_window(c, ifp, p, wnd))
			break;
		end = m->tcp_seq + m->tcp_len;
		if (end - c->snd_una > wnd)
			break;
		/* A full TX queue would drop what we add: our own loss.
		 * Room brings us back, in turn (with nothing in flight, no
		 * ACK would, only the timer). */
		if (ifp && ifp->txq.len >= CONFIG_NET_TXQ_MAX / 2) {
			txq_wait(c);
			break;
		}
		/* Nagle (RFC 9293 3.7.4): a short segment waits while data
		 * is in flight, unless it is the last before our FIN. */
		if (m->tcp_len < c->mss && !m->tcp_next && !c->nodelay &&
		    c->snd_nxt != c->snd_una && !c->fin_queued)
			break;
		unsigned n = frame_run(c, ifp, p, wnd, &end);
		struct pkt *after = m->tcp_next;
		for (unsigned i = 1; i < n; i++)
			after = pkt_meta(after)->tcp_next;
		if (!tcp_send_queued(c, p, n, TCP_ACK | (after ? 0 : TCP_PSH)))
			break;
		if (!c->ts_ok && !c->rtt_timing && c->snd_nxt == c->snd_max) {
			c->rtt_timing = true;
			c->rtt_seq = end;
			c->rtt_start = sched_now();
		}
		c->snd_nxt = end;
		if (tcp_lt(c->snd_max, end))
			c->snd_max = end;
		c->snd_next_pkt = after;
		c->last_send = now;
	}
	if (c->fin_queued && !c->snd_next_pkt && c->snd_nxt == c->fin_seq) {
		tcp_send_ctl(c, TCP_FIN | TCP_ACK, c->fin_seq);
		c->snd_nxt = c->fin_seq + 1;
		if (tcp_lt(c->snd_max, c->snd_nxt))
			c->snd_max = c->snd_nxt;
		c->fin_sent = true;
	}
	if (c->snd_una != c->snd_max || c->snd_next_pkt)
		tcp_rtx_arm(c);
ack:
	if (c->ack_now || c->ack_turn)
		tcp_send_ack(c);
}

bool tcp_send_new(struct tcp_conn *c)
{
	struct pkt *p = c->snd_next_pkt;
	if (!p || !can_send_data(c))
		return false;
	struct pkt_meta *m = pkt_meta(p);
	if (m->tcp_len > c->mss && !tcp_seg_split(c, p, c->mss))
		return false;
	uint32_t end = m->tcp_seq + m->tcp_len;
	if (end - c->snd_una > c->snd_wnd ||
	    !tcp_send_queued(c, p, 1, TCP_ACK | (m->tcp_next ? 0 : TCP_PSH)))
		return false;
	c->snd_nxt = end;
	if (tcp_lt(c->snd_max, end))
		c->snd_max = end;
	c->snd_next_pkt = m->tcp_next;
	c->last_send = sched_now();
	return true;
}

static struct tcp_conn *flush_list;

static void flush(void)
{
	struct tcp_conn *c;
	while ((c = flush_list)) {
		flush_list = c->flush_next;
		c->flush_queued = false;
		tcp_output(c);
	}
}

void tcp_output_forget(struct tcp_conn *c)
{
	txq_forget(c);
	if (!c->flush_queued)
		return;
	struct tcp_conn **pp = &flush_list;
	while (*pp != c)
		pp = &(*pp)->flush_next;
	*pp = c->flush_next;
	c->flush_queued = false;
}

void tcp_output_later(struct tcp_conn *c)
{
	if (c->flush_queued)
		return;
	net_flush_hook = flush;
	c->flush_queued = true;
	c->flush_next = flush_list;
	flush_list = c;
}

void tcp_retransmit_first(struct tcp_conn *c)
{
	struct pkt *p = c->sndq.head;
	tcp_count.retransmits++;
	if (p && tcp_lt(tcp_pkt_seq(p), c->snd_max)) {
		tcp_resend(c, p);
	} else if (c->fin_sent) {
		tcp_send_ctl(c, TCP_FIN | TCP_ACK, c->fin_seq);
	}
	/* Karn: no sample from a retransmitted segment. */
	c->rtt_timing = false;
}

uint32_t tcp_sndq_ack(struct tcp_conn *c, uint32_t ack)
{
	uint32_t acked = 0;
	struct pkt *p;
	while ((p = c->sndq.head)) {
		struct pkt_meta *m = pkt_meta(p);
		uint32_t end = m->tcp_seq + m->tcp_len;
		if (tcp_le(end, ack)) {
			acked += m->tcp_len;
			if (c->snd_next_pkt == p)
				c->snd_next_pkt = m->tcp_next;
			tcp_sndq_pop(&c->sndq);
			pkt_free(p);
			continue;
		}
		if (tcp_lt(m->tcp_seq, ack)) {
			uint32_t n = ack - m->tcp_seq;
			m->tcp_seq += n;
			if (m->tcp_ext)
				m->tcp_ext += n;
			else
				m->tcp_off += (uint16_t)n;
			m->tcp_len -= (uint16_t)n;
			acked += n;
		}
		break;
	}
	c->snd_queued -= acked;
	if (tcp_lt(c->snd_nxt, ack)) {
		c->snd_nxt = ack;
		c->snd_next_pkt = c->sndq.head;
	}
	return acked;
}

bool tcp_seg_split(struct tcp_conn *c, struct pkt *p, uint32_t n)
{
	struct pkt_meta *m = pkt_meta(p);
	assert(m->tcp_ext && n && n < m->tcp_len);
	struct pkt *q = pkt_alloc();
	if (!q) {
		net_global.drop_no_buffer++;
		return false;
	}
	struct pkt_meta *qm = pkt_meta(q);
	pkt_reserve(q, TCP_HEADROOM);
	qm->tcp_off = TCP_HEADROOM;
	qm->tcp_ext = m->tcp_ext + n;
	qm->tcp_len = (uint16_t)(m->tcp_len - n);
	qm->tcp_seq = m->tcp_seq + n;
	qm->tcp_sacked = m->tcp_sacked;
	qm->tcp_rexmit = m->tcp_rexmit;
	qm->tcp_next = m->tcp_next;
	m->tcp_len = (uint16_t)n;
	m->tcp_next = q;
	if (c->sndq.tail == p)
		c->sndq.tail = q;
	c->sndq.len++;
	return true;
}
