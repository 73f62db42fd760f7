/*
 * IPv4 (RFC 791, RFC 1122 host requirements): header validation, delivery
 * to ICMP, UDP and TCP, fragments to reassembly, and output with
 * fragmentation of datagrams larger than the MTU.  Packets for other
 * addresses are dropped, or with CONFIG_NET_FORWARD routed on (forward.c).
 */
#include <errno.h>
#include <string.h>

#include "net_internal.h"

#define IP_MF      0x2000
#define IP_OFFMASK 0x1fff
#define IP_TTL     64

static uint16_t next_id;

bool ipv4_is_local(uint32_t dst)
{
	for (unsigned i = 0; i < net_nifs; i++)
		if (net_ifs[i].ip && dst == net_ifs[i].ip)
			return true;
	return false;
}

/* For this host: an address of any interface (the weak host model, as
 * Linux), or a broadcast on ifp's link. */
bool ipv4_is_ours(const struct netif *ifp, uint32_t dst)
{
	if (dst == IP_BROADCAST)
		return true;
	if (!ifp->ip)
		return ifp->dhcp || ipv4_is_local(dst); /* DHCP offers come
							   before an address */
	return ipv4_is_local(dst) ||
	       (ifp->netmask != 0xffffffff && dst == (ifp->ip | ~ifp->netmask));
}

/* Whether a datagram not for us may be forwarded (RFC 1812 5.3.7): to a
 * unicast address, from one, not sent to the link's broadcast. */
static bool forwardable(struct pkt *p, uint32_t src, uint32_t dst)
{
	return !pkt_meta(p)->link_broadcast && (dst >> 28) < 14 &&
	       (dst >> 24) != 0 && (dst >> 24) != 127 && (src >> 24) != 0 &&
	       (src >> 28) < 14;
}

/* Packets for other hosts: to the route, through the filter. */
static void forward(struct netif *ifp, struct pkt *p, uint32_t src,
		    uint32_t dst)
{
	uint32_t nh;
	struct netif *out;
	if (!forwardable(p, src, dst)) {
		ifp->count.ip_fwd_drop_not_unicast++;
	} else if (!(out = ipv4_route(dst, &nh))) {
		ifp->count.ip_drop_no_route++;
		icmp_error(p->data, p->len, 3, 0, 0, 0); /* net unreachable */
	} else if (ipv4_filter(ifp, p, out) == NET_PASS) {
		ipv4_forward(ifp, p, out, nh);
		return;
	}
	pkt_free(p);
}

void ipv4_input(struct netif *ifp, struct pkt *p)
{
	const uint8_t *h = p->data;
	uint32_t len = pkt_frame_len(p);
	bool chained = pkt_meta(p)->frag != NULL;
	ifp->count.ip_packets_in++;
	ifp->count.ip_bytes_in += len;
	if (p->len < IP_HLEN) {
		ifp->count.ip_drop_truncated++;
		goto drop;
	}
	unsigned hlen = (h[0] & 0xf) * 4, total = get16(h + 2);
	if (h[0] >> 4 != 4 || hlen < IP_HLEN || total < hlen) {
		ifp->count.ip_drop_bad_header++;
		goto drop;
	}
	if (total > len || hlen > p->len) {
		ifp->count.ip_drop_truncated++;
		goto drop;
	}
	if (net_csum_fold(net_csum_add(0, h, hlen)) != 0) {
		ifp->count.ip_drop_bad_checksum++;
		goto drop;
	}
	uint32_t src = get32(h + 12), dst = get32(h + 16);
	bool local = ipv4_is_ours(ifp, dst);
	if (!local && !CONFIG_NET_FORWARD) {
		ifp->count.ip_drop_not_for_us++;
		goto drop;
	}
	if ((src >> 24) == 127 || src == IP_BROADCAST || (src >> 28) == 14) {
		ifp->count.ip_drop_bad_header++; /* martian source */
		goto drop;
	}
	/* A frame over several buffers is a TCP segment the host coalesced
	 * (abi.h, TSO); anything else that large is not what it claims. */
	if (chained &&
	    (h[9] != IPPROTO_TCP || (get16(h + 6) & (IP_MF | IP_OFFMASK)))) {
		ifp->count.ip_drop_bad_header++;
		goto drop;
	}
	pkt_chain_trim(p, total); /* Ethernet padding */
	pkt_meta(p)->src_ip = src;
	pkt_meta(p)->dst_ip = dst;
	if ((get16(h + 6) & (IP_MF | IP_OFFMASK)) &&
	    (local || ipv4_forward_whole())) {
		ifp->count.ip_frag_in++;
		p = ipv4_reass_input(ifp, p);
		if (!p)
			return;
		h = p->data;
		hlen = (h[0] & 0xf) * 4;
	}
	if (CONFIG_NET_FORWARD && nat_active()) {
		if (local && nat_inbound(ifp, p)) {
			dst = get32(h + 16);
			pkt_meta(p)->dst_ip = dst;
			local = false;
		} else if (!local && nat_passthrough(ifp, p) < 0) {
			goto drop;
		}
	}
	if (!local) {
		forward(ifp, p, src, dst);
		return;
	}
	if (ipv4_filter(ifp, p, NULL) == NET_DROP)
		goto drop;
	pkt_meta(p)->ip_hlen = (uint16_t)hlen;
	uint8_t proto = h[9];
	switch (proto) {
	case IPPROTO_ICMP:
		pkt_pull(p, hlen);
		icmp_input(ifp, p);
		return;
	case IPPROTO_UDP:
		pkt_pull(p, hlen);
		udp_input(ifp, p);
		return;
	case IPPROTO_TCP:
		pkt_pull(p, hlen);
		tcp_input(ifp, p);
		return;
	default:
		ifp->count.ip_drop_unknown_protocol++;
		if (dst == ifp->ip)
			icmp_unreachable(ifp, p->data, p->len,
					 2); /* protocol unreachable */
	}
drop:
	pkt_free(p);
}

static void put_header(uint8_t *h, unsigned total, uint16_t id, uint16_t frag,
		       uint8_t proto, uint32_t src, uint32_t dst)
{
	h[0] = 0x45;
	h[1] = 0;
	put16(h + 2, (uint16_t)total);
	put16(h + 4, id);
	put16(h + 6, frag);
	h[8] = IP_TTL;
	h[9] = proto;
	put16(h + 10, 0);
	put32(h + 12, src);
	put32(h + 16, dst);
	put16(h + 10, net_csum_fold(net_csum_add(0, h, IP_HLEN)));
}

static void send_packet(struct netif *ifp, struct pkt *p, uint32_t nh)
{
	ifp->count.ip_packets_out++;
	ifp->count.ip_bytes_out += pkt_frame_len(p);
	arp_output(ifp, p, nh);
}

int ipv4_output_buf(const void *hdr, size_t hlen, const void *payload,
		    size_t plen, uint8_t proto, uint32_t src, uint32_t dst)
{
	uint32_t nh;
	struct netif *ifp = ipv4_route(dst, &nh);
	if (!ifp) {
		net_global.ip_drop_no_route++;
		return -ENETUNREACH;
	}
	if (!src)
		src = ifp->ip;
	size_t len = hlen + plen;
	if (len > 65535 - IP_HLEN)
		return -EMSGSIZE;
	/* Fragments carry multiples of 8 bytes, all but the last. */
	size_t chunk = (ifp->mtu - IP_HLEN) & ~(size_t)7;
	uint16_t id = next_id++;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		struct pkt *p = pkt_alloc();
		if (!p) {
			ifp->count.drop_no_buffer++;
			return -ENOBUFS;
		}
		/* Copy [off, off + n) of header-then-payload. */
		uint8_t *d = p->data;
		for (size_t i = off; i < off + n;) {
			if (i < hlen) {
				size_t k = hlen - i < off + n - i ? hlen - i
								  : off + n - i;
				memcpy(d, (const uint8_t *)hdr + i, k);
				d += k;
				i += k;
			} else {
				memcpy(d, (const uint8_t *)payload + (i - hlen),
				       off + n - i);
				d += off + n - i;
				i = off + n;
			}
		}
		p->len = (uint32_t)n;
		uint16_t frag =
		    (uint16_t)(off / 8) | (off + n < len ? IP_MF : 0);
		put_header(pkt_push(p, IP_HLEN), IP_HLEN + n, id, frag, proto,
			   src, dst);
		if (len > chunk)
			ifp->count.ip_frags_out++;
		send_packet(ifp, p, nh);
	}
	return 0;
}

void ipv4_send(struct netif *ifp, struct pkt *p, uint8_t proto, uint32_t src,
	       uint32_t dst, uint32_t nh)
{
	unsigned total = pkt_frame_len(p) + IP_HLEN;
	put_header(pkt_push(p, IP_HLEN), total, next_id++, 0, proto, src, dst);
	send_packet(ifp, p, nh);
}

int ipv4_output(struct pkt *p, uint8_t proto, uint32_t dst)
{
	uint32_t nh;
	struct netif *ifp = ipv4_route(dst, &nh);
	if (!ifp) {
		net_global.ip_drop_no_route++;
		pkt_free(p);
		return -ENETUNREACH;
	}
	if (p->len + IP_HLEN > ifp->mtu ||
	    pkt_headroom(p) < IP_HLEN + ETH_HLEN) {
		int rc =
		    ipv4_output_buf(NULL, 0, p->data, p->len, proto, 0, dst);
		pkt_free(p);
		return rc;
	}
	ipv4_send(ifp, p, proto, ifp->ip, dst, nh);
	return 0;
}
