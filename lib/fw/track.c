/*
 * Following a flow: TCP through its handshake, data and teardown, UDP and
 * the rest by whether a reply came, each state with its own timeout.  The
 * states and timeouts are close to Linux conntrack's defaults (README,
 * "Flow tracking"); TCP segments must also be within the windows
 * (window.c), and resets exactly where the peer expects them.
 */
#include "fw_internal.h"

#define SEC 1000000000ULL

static uint64_t timeout(const struct fw_flow *f)
{
	static const uint32_t tcp_s[FW_STATES] = {
	    [FW_ST_SYN_SENT] = 120,       [FW_ST_SYN_RECV] = 60,
	    [FW_ST_ESTABLISHED] = 432000, /* 5 days */
	    [FW_ST_FIN_WAIT] = 120,       [FW_ST_LAST_ACK] = 30,
	    [FW_ST_TIME_WAIT] = 120,      [FW_ST_CLOSE] = 10,
	};
	bool replied = f->state == FW_ST_REPLIED;
	switch (f->key.proto) {
	case FW_PROTO_TCP:
		return tcp_s[f->state] * SEC;
	case FW_PROTO_UDP:
		return (replied ? 120 : 30) * SEC;
	case FW_PROTO_ICMP:
		return 30 * SEC;
	default:
		return 600 * SEC;
	}
}

bool fw_track_can_start(const struct fw_view *v)
{
	return v->key.proto != FW_PROTO_TCP ||
	       (v->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) ==
		   TCP_SYN;
}

bool fw_track_assured(const struct fw_flow *f)
{
	return f->state == FW_ST_REPLIED || f->state == FW_ST_ESTABLISHED ||
	       f->state == FW_ST_FIN_WAIT;
}

static void settle(struct fw_flow *f, uint64_t now)
{
	f->expires = now + timeout(f);
	fw_flow_update_listing(f);
}

void fw_track_start(struct fw_flow *f, const struct fw_view *v, uint64_t now)
{
	f->state = FW_ST_UNREPLIED;
	if (v->key.proto == FW_PROTO_TCP) {
		f->state = FW_ST_SYN_SENT;
		struct fw_tcp_syn syn = fw_window_syn(&v->tcp);
		fw_window_start(f, &syn);
	}
	settle(f, now);
}

/* tcp_next's answer for a packet that passes unchecked and changes
 * nothing, as conntrack ignores it: the tracker may be out of step with
 * the endpoints, and the packet may be what brings it back. */
#define IGNORED (FW_STATES + 1)

/* The next TCP state for a packet with flags in direction dir (0: the
 * opener's), FW_STATES when the state does not allow it, or IGNORED.  A
 * packet that is allowed but changes nothing (a retransmission) keeps the
 * state. */
static unsigned tcp_next(const struct fw_flow *f, int dir, uint8_t flags)
{
	unsigned st = f->state;
	if (flags & TCP_RST)
		return FW_ST_CLOSE;
	if (flags & TCP_SYN) {
		/* Only the opener sends a SYN: again while unanswered; on an
		 * open connection, one its peer answers with a challenge
		 * ACK, or a SYN-ACK if it lost the connection (RFC 5961). */
		if (!(flags & TCP_ACK)) {
			if (dir == 1)
				return FW_STATES;
			return st == FW_ST_SYN_SENT ? st : IGNORED;
		}
		if (dir == 0)
			return FW_STATES;
		/* The answer to the SYN; any later one passes unchecked. */
		return st == FW_ST_SYN_SENT ? FW_ST_SYN_RECV : IGNORED;
	}
	/* Before the SYN-ACK the opener has nothing to acknowledge; the other
	 * side may send a bare ACK (RFC 5961's challenge ACK, for a SYN that
	 * hit a connection it still has). */
	if (st == FW_ST_SYN_SENT)
		return dir == 1 && flags == TCP_ACK ? st : FW_STATES;
	if (flags & TCP_FIN) {
		uint8_t other = (uint8_t)(1 << (1 - dir));
		if (st == FW_ST_SYN_RECV || st == FW_ST_ESTABLISHED)
			return FW_ST_FIN_WAIT;
		if (st == FW_ST_FIN_WAIT && (f->fin & other))
			return FW_ST_LAST_ACK;
		return st;
	}
	if (!(flags & TCP_ACK))
		return FW_STATES;
	if (st == FW_ST_SYN_RECV && dir == 0)
		return FW_ST_ESTABLISHED;
	if (st == FW_ST_LAST_ACK)
		return FW_ST_TIME_WAIT;
	return st;
}

static bool closing(unsigned st)
{
	return st == FW_ST_FIN_WAIT || st == FW_ST_LAST_ACK ||
	       st == FW_ST_TIME_WAIT || st == FW_ST_CLOSE;
}

/* The state a reset with sequence number seq in direction dir leads to,
 * as conntrack decides (RFC 5961): one before the peer's highest
 * acknowledgement is out of the window (FW_STATES); on an established
 * connection, one that is not exactly there (nor right after the
 * sender's last data) changes nothing, as the endpoint answers it with a
 * challenge ACK rather than closing. */
static unsigned reset_next(const struct fw_flow *f, int dir, uint32_t seq)
{
	const struct fw_tcp_dir *s = &f->tcp[dir], *r = &f->tcp[1 - dir];
	bool established = f->state == FW_ST_ESTABLISHED;
	if (!(r->flags & FW_TCP_MAXACK) || (seq == 0 && !established))
		return FW_ST_CLOSE;
	if ((int32_t)(seq - r->maxack) < 0)
		return FW_STATES;
	if (!established || seq == r->maxack || seq == s->end)
		return FW_ST_CLOSE;
	return f->state;
}

/* Whether a TCP sends flags fl (PSH, ECE and CWR aside), as conntrack
 * judges them: SYN with RST or FIN, FIN without ACK, or nothing at all
 * are scans or attacks. */
static bool flags_valid(uint8_t fl)
{
	switch (fl & (TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK | TCP_URG)) {
	case TCP_SYN:
	case TCP_SYN | TCP_URG:
	case TCP_SYN | TCP_ACK:
	case TCP_RST:
	case TCP_RST | TCP_ACK:
	case TCP_FIN | TCP_ACK:
	case TCP_FIN | TCP_ACK | TCP_URG:
	case TCP_ACK:
	case TCP_ACK | TCP_URG:
		return true;
	}
	return false;
}

/*
 * A packet conntrack ignores (tcp_next): the opener's SYN on an open
 * connection is noted; a SYN-ACK that answers the SYN noted just before
 * it starts the flow over from the two (the endpoints began a new
 * connection on the key, and the tracker missed the old one's end).
 * Returns the state to go on from (its window to be checked), or IGNORED.
 */
static unsigned ignored(struct fw_flow *f, int dir, const struct fw_view *v)
{
	bool answer = dir == 1 && f->syn_ignored && v->tcp.ack == f->syn.end;
	f->syn_ignored = dir == 0;
	if (dir == 0) {
		f->syn = fw_window_syn(&v->tcp);
		return IGNORED;
	}
	if (!answer)
		return IGNORED;
	fw_window_start(f, &f->syn);
	f->state = FW_ST_SYN_SENT;
	f->fin = 0;
	return FW_ST_SYN_RECV;
}

static enum fw_track tcp_track(struct fw_flow *f, int dir,
			       const struct fw_view *v)
{
	uint8_t fl = v->tcp_flags;
	unsigned next = flags_valid(fl) ? tcp_next(f, dir, fl) : FW_STATES;
	if (next == IGNORED && (next = ignored(f, dir, v)) == IGNORED)
		return FW_TRACK_IGNORE;
	if (next == FW_STATES)
		return FW_TRACK_INVALID;
	/* The peer's challenge ACK to a SYN ignored on a closing
	 * connection acknowledges no FIN. */
	if (f->syn_ignored && f->state == FW_ST_LAST_ACK &&
	    next == FW_ST_TIME_WAIT && dir == 1 &&
	    (fl & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_ACK) {
		f->syn_ignored = false;
		return FW_TRACK_IGNORE;
	}
	/* The responder's ACK before its SYN-ACK answers the SYN about a
	 * connection the firewall never saw (a challenge ACK): it passes
	 * unchecked, as in conntrack, and teaches nothing. */
	if (f->state == FW_ST_SYN_SENT && dir == 1 && next == FW_ST_SYN_SENT)
		return FW_TRACK_IGNORE;
	/* A reset on a closing connection may come after the other end
	 * forgot its numbers: it passes unchecked, as in conntrack. */
	if (!(fl & TCP_RST) || !closing(f->state)) {
		if (fl & TCP_RST) {
			next = reset_next(f, dir, v->tcp.seq);
			if (next == FW_STATES)
				return FW_TRACK_WINDOW;
		}
		enum fw_track w = fw_window(f, dir, v);
		if (w != FW_TRACK_PASS)
			return w;
	}
	if (fl & TCP_FIN)
		f->fin |= (uint8_t)(1 << dir);
	f->state = (uint8_t)next;
	f->syn_ignored = false;
	return FW_TRACK_PASS;
}

enum fw_track fw_track(struct fw_flow *f, int dir, const struct fw_view *v,
		       uint64_t now)
{
	if (f->key.proto == FW_PROTO_TCP) {
		uint8_t fl = v->tcp_flags;
		/* A new connection on the key of a closed one (port reuse):
		 * the old flow goes, the rules decide on the new. */
		if (dir == 0 &&
		    (fl & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN &&
		    (f->state == FW_ST_TIME_WAIT || f->state == FW_ST_CLOSE))
			return FW_TRACK_REOPEN;
		enum fw_track t = tcp_track(f, dir, v);
		if (t != FW_TRACK_PASS)
			return t;
	} else if (dir == 1) {
		f->state = FW_ST_REPLIED;
	}
	settle(f, now);
	return FW_TRACK_PASS;
}
