/*
 * ICMP (RFC 792): echo replies, and destination-unreachable errors limited
 * to CONFIG_NET_ICMP_ERRORS_PER_S by a token bucket.  Following RFC 1122
 * 3.2.2, no error is sent about an ICMP error, a broadcast, or a fragment
 * other than the first.
 */
#include <string.h>

#include "net_internal.h"

#define ICMP_ECHO_REPLY  0
#define ICMP_UNREACHABLE 3
#define ICMP_ECHO        8
#define ICMP_HLEN        8

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
	if (p->data[0] != ICMP_ECHO || m->dst_ip != ifp->ip)
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

void icmp_unreachable(struct netif *ifp, const uint8_t *ip, size_t len,
		      uint8_t code)
{
	unsigned hlen = (ip[0] & 0xf) * 4;
	if (get32(ip + 16) != ifp->ip || (get16(ip + 6) & 0x1fff) ||
	    (ip[9] == IPPROTO_ICMP &&
	     (len < hlen + 1 || ip[hlen] != ICMP_ECHO)))
		return;
	if (!take_token()) {
		ifp->count.icmp_errors_rate_limited++;
		return;
	}
	/* The original header and the first 8 bytes of its payload. */
	uint8_t msg[ICMP_HLEN + 60 + 8];
	size_t quote = hlen + 8 < len ? hlen + 8 : len;
	memset(msg, 0, ICMP_HLEN);
	msg[0] = ICMP_UNREACHABLE;
	msg[1] = code;
	memcpy(msg + ICMP_HLEN, ip, quote);
	put16(msg + 2, net_csum_fold(net_csum_add(0, msg, ICMP_HLEN + quote)));
	ifp->count.icmp_out++;
	ifp->count.icmp_errors_sent++;
	ipv4_output_buf(msg, ICMP_HLEN + quote, NULL, 0, IPPROTO_ICMP, ifp->ip,
			get32(ip + 12));
}
