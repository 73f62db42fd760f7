/*
 * ICMP (RFC 792): echo replies, and errors (destination unreachable, and
 * for a forwarder time exceeded and fragmentation needed) limited to
 * CONFIG_NET_ICMP_ERRORS_PER_S by a token bucket.  Following RFC 1122
 * 3.2.2 and RFC 1812 4.3.2.7, no error is sent about an ICMP error, a
 * broadcast or multicast, or a fragment other than the first.
 */
#include <string.h>

#include "net_internal.h"

#define ICMP_ECHO_REPLY    0
#define ICMP_UNREACHABLE   3
#define ICMP_ECHO          8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_HLEN          8
#define ICMP_ERROR_MAX     (576 - IP_HLEN)

void icmp_input(struct netif *ifp, struct pkt *p)
{
	ifp->count.icmp_in++;
	if (p->len < ICMP_HLEN) {
		ifp->count.icmp_drop_malformed++;
		goto drop;
	}
	if (net_csum_fold(net_csum_add(0, p->data, p->len)) != 0) {
		ifp->count.icmp_drop_bad_checksum++;
		goto drop;
	}
	const struct pkt_meta *m = pkt_meta(p);
	if (p->data[0] != ICMP_ECHO || !ipv4_is_local(m->dst_ip))
		goto drop; /* nothing else needs an answer from a host */

	/* Turn the request around in place. */
	p->data[0] = ICMP_ECHO_REPLY;
	put16(p->data + 2, 0);
	put16(p->data + 2, net_csum_fold(net_csum_add(0, p->data, p->len)));
	ifp->count.icmp_out++;
	ifp->count.icmp_echo_replies++;
	ipv4_output(p, IPPROTO_ICMP, m->src_ip);
	return;
drop:
	pkt_free(p);
}

static uint64_t tokens_at; /* time the bucket was last filled */
static unsigned tokens = CONFIG_NET_ICMP_ERRORS_PER_S;

static bool take_token(void)
{
	uint64_t now = sched_now();
	if (now - tokens_at >= 1000000000ULL) {
		tokens = CONFIG_NET_ICMP_ERRORS_PER_S;
		tokens_at = now;
	}
	if (!tokens)
		return false;
	tokens--;
	return true;
}

/* RFC 1812 4.3.2.7: no error about an ICMP error, a datagram to a
 * broadcast or multicast address, a fragment other than the first, or one
 * whose source names no single host. */
static bool may_answer(const uint8_t *ip, size_t len)
{
	unsigned hlen = (ip[0] & 0xf) * 4;
	uint32_t src = get32(ip + 12), dst = get32(ip + 16);
	if ((get16(ip + 6) & 0x1fff) || dst == IP_BROADCAST ||
	    (dst >> 28) >= 14 || !src || (src >> 24) == 0 ||
	    (src >> 24) == 127 || (src >> 28) >= 14)
		return false;
	if (ip[9] != IPPROTO_ICMP)
		return true;
	if (len < hlen + 1)
		return false;
	uint8_t type = ip[hlen];
	return type != ICMP_UNREACHABLE && type != 4 && type != 5 &&
	       type != ICMP_TIME_EXCEEDED && type != 12;
}

void icmp_error(const uint8_t *ip, size_t len, uint8_t type, uint8_t code,
		uint32_t rest, uint32_t src)
{
	if (!may_answer(ip, len))
		return;
	struct netif *ifp = &net_ifs[0];
	uint32_t nh;
	struct netif *back = ipv4_route(get32(ip + 12), &nh);
	if (back)
		ifp = back;
	if (!take_token()) {
		ifp->count.icmp_errors_rate_limited++;
		return;
	}
	/* As much of the datagram as fits 576 bytes (RFC 1812 4.3.2.3). */
	uint8_t msg[ICMP_ERROR_MAX];
	size_t quote = len < sizeof msg - ICMP_HLEN - IP_HLEN
			   ? len
			   : sizeof msg - ICMP_HLEN - IP_HLEN;
	msg[0] = type;
	msg[1] = code;
	put16(msg + 2, 0);
	put32(msg + 4, rest);
	memcpy(msg + ICMP_HLEN, ip, quote);
	put16(msg + 2, net_csum_fold(net_csum_add(0, msg, ICMP_HLEN + quote)));
	ifp->count.icmp_out++;
	ifp->count.icmp_errors_sent++;
	ipv4_output_buf(msg, ICMP_HLEN + quote, NULL, 0, IPPROTO_ICMP, src,
			get32(ip + 12));
}

void icmp_unreachable(struct netif *ifp, const uint8_t *ip, size_t len,
		      uint8_t code)
{
	if (get32(ip + 16) == ifp->ip)
		icmp_error(ip, len, ICMP_UNREACHABLE, code, 0, ifp->ip);
}
