/*
 * Following a flow: TCP through its handshake, data and teardown, UDP and
 * the rest by whether a reply came, each state with its own timeout.  The
 * states and timeouts are close to Linux conntrack's defaults (README,
 * "Flow tracking"); sequence numbers are not checked against the windows.
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
	f->state =
	    v->key.proto == FW_PROTO_TCP ? FW_ST_SYN_SENT : FW_ST_UNREPLIED;
	settle(f, now);
}

/* The next TCP state for a packet with flags in direction dir (0: the
 * opener's), or FW_STATES when the state does not allow it.  A packet that
 * is allowed but changes nothing (a retransmission) keeps the state. */
static unsigned tcp_next(const struct fw_flow *f, int dir, uint8_t flags)
{
	unsigned st = f->state;
	if (flags & TCP_RST)
		return FW_ST_CLOSE;
	if (flags & TCP_SYN) {
		if (!(flags & TCP_ACK)) /* only the opener sends a SYN */
			return dir == 0 && st == FW_ST_SYN_SENT ? st
								: FW_STATES;
		if (dir == 0)
			return FW_STATES;
		/* The answer to the SYN, or a late copy of it. */
		return st == FW_ST_SYN_SENT ? FW_ST_SYN_RECV : st;
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
		unsigned next = tcp_next(f, dir, fl);
		if (next == FW_STATES)
			return FW_TRACK_INVALID;
		if (fl & TCP_FIN)
			f->fin |= (uint8_t)(1 << dir);
		f->state = (uint8_t)next;
	} else if (dir == 1) {
		f->state = FW_ST_REPLIED;
	}
	settle(f, now);
	return FW_TRACK_PASS;
}
