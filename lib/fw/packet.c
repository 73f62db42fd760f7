/*
 * Reading a datagram: the IPv4 header, the transport header's fields the
 * rules and flows use, and the datagram an ICMP error quotes.  Nothing is
 * read past len; a header that does not fit is malformed (Linux conntrack
 * calls such packets invalid).
 */
#include "fw_internal.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* ICMP queries and their answers: a reply's key is its request's
 * reversed, so a flow's reply direction finds it. */
static int icmp_request_of(uint8_t type)
{
	switch (type) {
	case 8:  /* echo request */
	case 13: /* timestamp request */
	case 15: /* information request */
	case 17: /* address mask request */
		return type;
	case 0:
		return 8;
	case 14:
	case 16:
	case 18:
		return type - 1;
	}
	return -1;
}

static bool icmp_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* k from a transport header of which l4len bytes are present (an ICMP
 * error quotes only the first 8). */
static bool l4_key(uint8_t proto, const uint8_t *ip, const uint8_t *l4,
		   size_t l4len, struct fw_key *k)
{
	k->src = be32(ip + 12);
	k->dst = be32(ip + 16);
	k->proto = proto;
	k->sport = k->dport = 0;
	k->query = 0;
	if (proto == FW_PROTO_TCP || proto == FW_PROTO_UDP) {
		if (l4len < 4)
			return false;
		k->sport = be16(l4);
		k->dport = be16(l4 + 2);
	} else if (proto == FW_PROTO_ICMP) {
		if (l4len < 8)
			return false;
		int req = icmp_request_of(l4[0]);
		if (req == l4[0]) {
			k->sport = be16(l4 + 4);
			k->dport = (uint16_t)req;
			k->query = 1;
		} else if (req >= 0) {
			k->sport = (uint16_t)req;
			k->dport = be16(l4 + 4);
			k->query = 2;
		}
	}
	return true;
}

/* The datagram an ICMP error quotes: its IPv4 header and the first bytes
 * of its transport header. */
static bool quoted_key(const uint8_t *q, size_t qlen, struct fw_key *k)
{
	if (qlen < 20 || q[0] >> 4 != 4)
		return false;
	size_t hl = (size_t)(q[0] & 15) * 4;
	if (hl < 20 || hl > qlen)
		return false;
	return l4_key(q[9], q, q + hl, qlen - hl, k);
}

/* The options window tracking uses: window scale and SACK permitted in a
 * SYN, the SACK blocks' highest right edge in the rest.  A malformed
 * option ends the reading (as Linux's parser does), keeping what came
 * before it. */
static void tcp_options(const uint8_t *o, size_t n, bool syn,
			struct fw_tcp_seg *t)
{
	size_t i = 0;
	while (i < n) {
		uint8_t kind = o[i];
		if (kind == 0) /* end of the list */
			return;
		if (kind == 1) { /* no-op */
			i++;
			continue;
		}
		if (i + 2 > n || o[i + 1] < 2 || i + o[i + 1] > n)
			return;
		uint8_t olen = o[i + 1];
		if (syn && kind == 3 && olen == 3) {
			t->opts |= FW_TCP_WSCALE;
			t->wscale =
			    o[i + 2] > 14 ? 14 : o[i + 2]; /* RFC 7323 */
		} else if (syn && kind == 4 && olen == 2) {
			t->opts |= FW_TCP_SACK_PERM;
		} else if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
			for (size_t b = i + 2; b < i + olen; b += 8) {
				uint32_t right = be32(o + b + 4);
				if ((int32_t)(right - t->sack) > 0)
					t->sack = right;
			}
		}
		i += olen;
	}
}

/* A TCP segment's numbers; total is the datagram's length, which of a
 * coalesced segment is more than the bytes present. */
static void tcp_seg(const uint8_t *l4, size_t thl, size_t total, size_t hl,
		    struct fw_tcp_seg *t)
{
	uint8_t flags = l4[13];
	t->seq = be32(l4 + 4);
	t->ack = t->sack = be32(l4 + 8);
	t->win = be16(l4 + 14);
	t->wscale = 0;
	t->opts = 0;
	t->end = t->seq + (uint32_t)(total - hl - thl) +
		 ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
	tcp_options(l4 + 20, thl - 20, flags & TCP_SYN, t);
}

/* A TCP segment the host coalesced, of which only the first piece, with
 * every header, is at ip (include/ingot/net.h): len bytes of it. */
static bool coalesced(const uint8_t *ip, size_t hl, size_t len)
{
	return ip[9] == FW_PROTO_TCP && !(be16(ip + 6) & 0x3fff) &&
	       len >= hl + 20 && hl + (size_t)(ip[hl + 12] >> 4) * 4 <= len;
}

enum fw_verdict fw_parse(const uint8_t *ip, size_t len, struct fw_view *v)
{
	if (len < 20 || ip[0] >> 4 != 4)
		return FW_DROP_MALFORMED;
	size_t hl = (size_t)(ip[0] & 15) * 4, total = be16(ip + 2);
	if (hl < 20 || total < hl || (total > len && !coalesced(ip, hl, len)))
		return FW_DROP_MALFORMED;
	v->bytes = (uint32_t)total;
	if (be16(ip + 6) & 0x3fff) /* more fragments, or an offset */
		return FW_DROP_FRAGMENT;
	const uint8_t *l4 = ip + hl;
	size_t l4len = (total < len ? total : len) - hl;
	uint8_t proto = ip[9];
	v->sport = v->dport = 0;
	v->tcp_flags = 0;
	v->icmp_type = 0;
	v->icmp_request = v->icmp_error = false;
	switch (proto) {
	case FW_PROTO_TCP:
		if (l4len < 20 || l4[12] >> 4 < 5 ||
		    (size_t)(l4[12] >> 4) * 4 > l4len)
			return FW_DROP_MALFORMED;
		v->tcp_flags = l4[13];
		tcp_seg(l4, (size_t)(l4[12] >> 4) * 4, total, hl, &v->tcp);
		break;
	case FW_PROTO_UDP:
		if (l4len < 8)
			return FW_DROP_MALFORMED;
		break;
	case FW_PROTO_ICMP:
		if (l4len < 8)
			return FW_DROP_MALFORMED;
		v->icmp_type = l4[0];
		v->icmp_request = icmp_request_of(l4[0]) == l4[0];
		v->icmp_error = icmp_is_error(l4[0]) &&
				quoted_key(l4 + 8, l4len - 8, &v->quoted);
		break;
	}
	l4_key(proto, ip, l4, l4len, &v->key);
	if (proto == FW_PROTO_TCP || proto == FW_PROTO_UDP) {
		v->sport = v->key.sport;
		v->dport = v->key.dport;
	}
	return FW_PASS_RULE;
}
