/*
 * The sender's side of SACK: blocks from the peer marked on the send queue
 * (RFC 2018), and loss recovery driven by them (RFC 6675): during fast
 * recovery the data in the network ("pipe") is counted from the marks,
 * and while the window leaves room for a segment the next one goes out:
 * a lost hole first, then new data, then a hole not yet known lost.
 * Segments are the queue's entries; a connection without SACK recovers
 * with NewReno (tcp_recovery.c).
 */
#include "tcp_internal.h"

#define DUP_THRESH 3 /* RFC 6675 2 */

/*
 * A block that covers part of an image-data segment (which may hold many
 * MSS, tcp_sock.c): the segment is cut at the block's edge inside it, so
 * that the part covered is marked alone.  Only where both parts keep half
 * an MSS: a peer's blocks cannot cut the queue finer than that.
 */
static void cut_at_block(struct tcp_conn *c, struct pkt *p, uint32_t l,
			 uint32_t r)
{
	struct pkt_meta *m = pkt_meta(p);
	uint32_t at = 0, half = c->mss / 2u;
	if (!m->tcp_ext || m->tcp_sacked)
		return;
	if (tcp_lt(m->tcp_seq, l))
		at = l - m->tcp_seq;
	else if (tcp_lt(r, m->tcp_seq + m->tcp_len))
		at = r - m->tcp_seq;
	if (at >= half && m->tcp_len - at >= half && at < m->tcp_len)
		tcp_seg_split(c, p, at);
}

void tcp_sack_update(struct tcp_conn *c, const struct tcp_opts *o)
{
	for (unsigned i = 0; i < o->nsack; i++) {
		uint32_t l = o->sack[i][0], r = o->sack[i][1];
		/* Only blocks inside what is in flight count (RFC 2018 is
		 * silent; anything else is stale or forged). */
		if (!tcp_lt(l, r) || tcp_lt(l, c->snd_una) ||
		    tcp_lt(c->snd_max, r))
			continue;
		for (struct pkt *p = c->sndq.head; p;
		     p = pkt_meta(p)->tcp_next) {
			struct pkt_meta *m = pkt_meta(p);
			if (!tcp_lt(m->tcp_seq, r))
				break;
			cut_at_block(c, p, l, r);
			if (tcp_le(l, m->tcp_seq) &&
			    tcp_le(m->tcp_seq + m->tcp_len, r))
				m->tcp_sacked = 1;
		}
		if (!tcp_lt(c->snd_una, c->sack_high) ||
		    tcp_lt(c->snd_max, c->sack_high) || tcp_lt(c->sack_high, r))
			c->sack_high = r;
	}
}

/*
 * RFC 6675 4: the pipe, and the segments NextSeg would resend: *lost the
 * first that IsLost says is (DupThresh segments, or more than
 * (DupThresh - 1) * SMSS bytes, SACKed above it), *rescue the first below
 * the highest SACKed byte that is not; neither resent already.
 */
static uint32_t scoreboard(const struct tcp_conn *c, struct pkt **lost,
			   struct pkt **rescue)
{
	uint32_t above_bytes = 0, above_segs = 0, pipe = 0;
	struct pkt *p;
	for (p = c->sndq.head; p && tcp_lt(tcp_pkt_seq(p), c->snd_max);
	     p = pkt_meta(p)->tcp_next)
		if (pkt_meta(p)->tcp_sacked) {
			above_bytes += pkt_meta(p)->tcp_len;
			above_segs++;
		}
	*lost = *rescue = NULL;
	for (p = c->sndq.head; p && tcp_lt(tcp_pkt_seq(p), c->snd_max);
	     p = pkt_meta(p)->tcp_next) {
		const struct pkt_meta *m = pkt_meta(p);
		if (m->tcp_sacked) {
			above_bytes -= m->tcp_len;
			above_segs--;
			continue;
		}
		bool is_lost =
		    above_segs >= DUP_THRESH ||
		    above_bytes > (DUP_THRESH - 1) * (uint32_t)c->mss;
		pipe += (is_lost ? 0 : m->tcp_len) +
			(m->tcp_rexmit ? m->tcp_len : 0);
		if (m->tcp_rexmit)
			continue;
		if (is_lost && !*lost)
			*lost = p;
		else if (!is_lost && !*rescue &&
			 tcp_lt(m->tcp_seq, c->sack_high))
			*rescue = p;
	}
	return pipe;
}

void tcp_sack_recover(struct tcp_conn *c)
{
	/* Bounded per ACK: each turn sends a segment or stops. */
	for (unsigned turn = 0; turn < 64; turn++) {
		struct pkt *lost, *rescue;
		uint32_t pipe = scoreboard(c, &lost, &rescue);
		if (c->cwnd < pipe + c->mss)
			return;
		struct pkt *p = lost;
		if (!p && tcp_send_new(c))
			continue;
		if (!p)
			p = rescue;
		if (!p)
			return;
		tcp_count.retransmits++;
		c->rtt_timing = false; /* Karn */
		if (!tcp_resend(c, p))
			return;
	}
}
