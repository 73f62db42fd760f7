/*
 * TCP window tracking, after Guido van Rooij's "Real Stateful TCP Packet
 * Filtering in IP Filter", as Linux conntrack applies it with be_liberal
 * off.  Each direction keeps the highest sequence number it sent (end),
 * the highest its peer's acknowledgements and windows let it send
 * (maxend), and the largest window it offered (maxwin, scaled as its SYN
 * asked).  A segment from the sender to the receiver is in the windows
 * when
 *   I    it starts no later than the receiver allows: seq <= s.maxend;
 *   II   it ends no earlier than a window before what was sent:
 *        end >= s.end - r.maxwin;
 *   III  it acknowledges nothing the receiver has not sent:
 *        sack <= r.end (sack: the ack, or the highest SACK block);
 *   IV   it acknowledges no less than a window before that:
 *        sack >= r.end - max(s.maxwin, 66000).
 * Failing I or III a segment is out of the window: dropped and counted
 * (drop-window).  Failing II or IV it is old (data already acknowledged
 * sent again, a late acknowledgement): it passes and changes nothing, as
 * in Linux since 6.1.  A segment that fails I only by data past the
 * window, while acknowledging well, passes the same way (TCPs that send a
 * little more than the window), its end noted so that its acknowledgement
 * is not over the bound.
 */
#include "fw_internal.h"

/* Linux's MAXACKWINCONST: IV's bound is never closer than this. */
#define ACK_WINDOW_FLOOR 66000
#define MAX_WINDOW       (65535u << 14) /* RFC 7323's largest */

static bool after(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) < 0;
}

struct fw_tcp_syn fw_window_syn(const struct fw_tcp_seg *t)
{
	return (struct fw_tcp_syn){
	    .end = t->end, .win = t->win, .wscale = t->wscale, .opts = t->opts};
}

/* The sender's direction from its SYN or SYN-ACK. */
static void from_syn(struct fw_tcp_dir *s, struct fw_tcp_syn syn)
{
	s->end = s->maxend = syn.end;
	s->maxwin = syn.win ? syn.win : 1;
	s->maxack = 0;
	s->scale = syn.wscale;
	s->flags = syn.opts & (FW_TCP_WSCALE | FW_TCP_SACK_PERM);
}

void fw_window_start(struct fw_flow *f, const struct fw_tcp_syn *syn)
{
	from_syn(&f->tcp[0], *syn);
	f->tcp[1] = (struct fw_tcp_dir){0};
}

/* The answer to the SYN: windows scale only if both SYNs asked. */
static void from_syn_ack(struct fw_tcp_dir *s, struct fw_tcp_dir *r,
			 const struct fw_tcp_seg *t)
{
	from_syn(s, fw_window_syn(t));
	if (!(s->flags & r->flags & FW_TCP_WSCALE))
		s->scale = r->scale = 0;
}

/* The responder first seen without a SYN: its reset answering the SYN
 * (the only such segment the states let through to here). */
static void pick_up(struct fw_tcp_dir *s, const struct fw_tcp_seg *t)
{
	s->end = t->end;
	s->maxwin = t->win ? t->win : 1; /* no SYN-ACK: no scale yet */
	s->maxend = s->end + s->maxwin;
}

/* After a segment in the windows: the sender's and receiver's bounds
 * move on. */
static void advance(struct fw_tcp_dir *s, struct fw_tcp_dir *r,
		    const struct fw_tcp_seg *t, uint8_t flags, uint32_t ack,
		    uint32_t sack, uint32_t end)
{
	uint32_t win = t->win;
	if (!(flags & TCP_SYN)) /* a SYN's window is never scaled */
		win <<= s->scale;
	uint32_t swin = win + (sack - ack);
	if (s->maxwin < swin)
		s->maxwin = swin;
	if (after(end, s->end))
		s->end = end;
	if (flags & TCP_ACK) {
		if (!(s->flags & FW_TCP_MAXACK) || after(ack, s->maxack))
			s->maxack = ack;
		s->flags |= FW_TCP_MAXACK;
	}
	/* Data past the window widens the receiver's (it took it), never
	 * past the largest window TCP can offer: beyond half the sequence
	 * space the comparisons would turn. */
	if (r->maxwin && after(end, s->maxend)) {
		r->maxwin += end - s->maxend;
		if (r->maxwin > MAX_WINDOW)
			r->maxwin = MAX_WINDOW;
	}
	if (after(sack + win, r->maxend - 1))
		r->maxend = sack + win + (win ? 0 : 1);
}

enum fw_track fw_window(struct fw_flow *f, int dir, const struct fw_view *v)
{
	struct fw_tcp_dir *s = &f->tcp[dir], *r = &f->tcp[1 - dir];
	const struct fw_tcp_seg *t = &v->tcp;
	uint8_t flags = v->tcp_flags;
	uint32_t seq = t->seq, end = t->end, ack = t->ack;
	uint32_t sack = (r->flags & FW_TCP_SACK_PERM) ? t->sack : ack;

	if (!s->maxwin) { /* the responder's first segment */
		if (flags & TCP_SYN)
			from_syn_ack(s, r, t);
		else
			pick_up(s, t);
	} else if ((flags & TCP_SYN) && after(end, s->end)) {
		/* The opener's SYN again, unanswered (track.c lets no other
		 * SYN through to here), with a new initial sequence number:
		 * it started over (RFC 793 lets it, with higher numbers). */
		from_syn(s, fw_window_syn(t));
		return FW_TRACK_PASS;
	}
	/* No acknowledgement, or a reset's zero one (stacks that set ACK
	 * on a reset without a number): taken as acknowledging all. */
	if (!(flags & TCP_ACK) || ((flags & TCP_RST) && ack == 0))
		ack = sack = r->end;
	/* A reset answering the SYN may carry sequence number 0. */
	if ((flags & TCP_RST) && seq == 0 && f->state == FW_ST_SYN_SENT)
		seq = end = s->end;

	uint32_t ackwin =
	    s->maxwin > ACK_WINDOW_FLOOR ? s->maxwin : ACK_WINDOW_FLOOR;
	bool ack_not_old = after(sack, r->end - ackwin - 1);
	bool end_not_old = !r->maxwin || after(end, s->end - r->maxwin - 1);
	bool ack_sent = !after(sack, r->end);
	if (after(seq, s->maxend)) { /* I */
		if (r->maxwin && end_not_old && ack_not_old && ack_sent &&
		    end - s->maxend + 1 <= r->maxwin) {
			s->end = end;
			return FW_TRACK_IGNORE;
		}
		return FW_TRACK_WINDOW;
	}
	if (!ack_sent) /* III */
		return FW_TRACK_WINDOW;
	if (!end_not_old || !ack_not_old) /* II, IV */
		return FW_TRACK_IGNORE;
	advance(s, r, t, flags, ack, sack, end);
	return FW_TRACK_PASS;
}
