/*
 * IPv4 forwarding (RFC 1812) for images built with CONFIG_NET_FORWARD: a
 * datagram for another host leaves by the route to it with its TTL one
 * lower, in the buffer it came in (only its Ethernet header is rewritten),
 * or is answered with an ICMP error: time exceeded at TTL 1, fragmentation
 * needed when it is larger than the next link's MTU and says Don't
 * Fragment (RFC 1191), net unreachable when there is no route.  Larger
 * datagrams without DF are cut into fragments (copied), as are datagrams
 * reassembled for the filter or NAT.
 */
#include <string.h>

#include "net_internal.h"

#define IP_DF      0x4000
#define IP_MF      0x2000
#define IP_OFFMASK 0x1fff

static net_filter_fn filter;

void net_set_filter(net_filter_fn fn)
{
	filter = fn;
}

unsigned net_if_count(void)
{
	return net_nifs;
}

const char *net_if_name(unsigned i)
{
	return i < net_nifs ? net_ifs[i].dev->name : NULL;
}

bool ipv4_forward_whole(void)
{
	return filter || nat_active();
}

enum net_verdict ipv4_filter(struct netif *in, struct pkt *p, struct netif *out)
{
	if (!filter || filter(p, (int)(in - net_ifs),
			      out ? (int)(out - net_ifs) : -1) == NET_PASS)
		return NET_PASS;
	in->count.ip_drop_filtered++;
	return NET_DROP;
}

/* Options that go into every fragment (the copied flag, RFC 791), from the
 * hlen-byte header h into o, padded to 4 bytes; their length. */
static unsigned copied_options(const uint8_t *h, unsigned hlen, uint8_t *o)
{
	unsigned n = 0;
	for (unsigned i = IP_HLEN; i < hlen;) {
		uint8_t type = h[i];
		if (type == 0)
			break; /* end of options */
		unsigned len = type == 1 ? 1 : i + 1 < hlen ? h[i + 1] : 0;
		if (len < 1 || i + len > hlen || (type != 1 && len < 2))
			break; /* checked when it came in: not reached */
		if (type & 0x80) {
			memcpy(o + n, h + i, len);
			n += len;
		}
		i += len;
	}
	while (n % 4)
		o[n++] = 0;
	return n;
}

/*
 * Sends the datagram at ip (len bytes, its header's TTL already lowered)
 * on out to nh in fragments of at most out's MTU, copied into new packets;
 * a fragment of a fragment keeps its place in the original.
 */
static void fragment(struct netif *out, uint32_t nh, const uint8_t *ip,
		     uint32_t len)
{
	unsigned hlen = (ip[0] & 0xf) * 4;
	uint8_t opts[40];
	unsigned olen = copied_options(ip, hlen, opts);
	uint16_t frag = get16(ip + 6);
	uint32_t base = (uint32_t)(frag & IP_OFFMASK) * 8;
	const uint8_t *payload = ip + hlen;
	uint32_t plen = len - hlen;
	for (uint32_t off = 0; off < plen;) {
		unsigned h = off ? IP_HLEN + olen : hlen;
		uint32_t room = (out->mtu - h) & ~7u;
		uint32_t n = plen - off < room ? plen - off : room;
		struct pkt *p = pkt_alloc();
		if (!p) {
			out->count.drop_no_buffer++;
			return;
		}
		uint8_t *d = p->data;
		memcpy(d, ip, IP_HLEN);
		if (off)
			memcpy(d + IP_HLEN, opts, olen);
		else
			memcpy(d + IP_HLEN, ip + IP_HLEN, hlen - IP_HLEN);
		d[0] = (uint8_t)(0x40 | h / 4);
		put16(d + 2, (uint16_t)(h + n));
		bool more = off + n < plen || (frag & IP_MF);
		put16(d + 6, (uint16_t)((frag & IP_DF) | (more ? IP_MF : 0) |
					((base + off) / 8)));
		put16(d + 10, 0);
		put16(d + 10, net_csum_fold(net_csum_add(0, d, h)));
		memcpy(d + h, payload + off, n);
		p->len = h + n;
		off += n;
		out->count.ip_frags_out++;
		out->count.ip_packets_out++;
		out->count.ip_bytes_out += p->len;
		arp_output(out, p, nh);
	}
}

/* A frame from this host whose TCP or UDP checksum holds only the
 * pseudo-header's sum (abi.h): the field, or NULL if its offsets do not fit
 * the datagram. */
static uint8_t *partial_field(struct pkt *p, uint8_t **l4)
{
	struct pkt_meta *m = pkt_meta(p);
	uint32_t start = m->csum_start - ETH_HLEN;
	if (m->csum_start < ETH_HLEN + IP_HLEN ||
	    start + m->csum_off + 2 > p->len)
		return NULL;
	*l4 = p->data + start;
	return *l4 + m->csum_off;
}

/* Completes p's partial checksum; false if its offsets do not fit. */
static bool csum_complete(struct pkt *p)
{
	uint8_t *l4, *c = partial_field(p, &l4), *data = p->data;
	if (!c)
		return false;
	/* Summed from l4 over every piece, the field (the pseudo-header's
	 * sum) included: the frame seen from there. */
	uint32_t skip = (uint32_t)(l4 - data);
	p->data = l4;
	p->len -= skip;
	uint16_t sum = net_csum_fold(net_csum_frame(0, p));
	p->data = data;
	p->len += skip;
	if (sum == 0 && data[9] == IPPROTO_UDP)
		sum = 0xffff; /* 0 means none (RFC 768) */
	put16(c, sum);
	pkt_meta(p)->csum_start = 0;
	return true;
}

/* The partial checksum of p, completed by the host on the way out where
 * out offloads checksums and p leaves as it is, else here. */
static bool partial_checksum(struct netif *out, struct pkt *p, bool as_is)
{
	struct pkt_meta *m = pkt_meta(p);
	uint8_t *l4;
	if (!as_is || !(out->features & INGOT_NET_F_CSUM))
		return csum_complete(p);
	if (!partial_field(p, &l4))
		return false;
	m->tx_flags = INGOT_NET_SLOT_CSUM;
	m->tx_l4 = l4;
	m->tx_csum_off = (uint8_t)m->csum_off;
	m->csum_start = 0;
	return true;
}

/* Bytes of the IP and TCP headers of the datagram at h (its first piece
 * of n bytes), or 0 if they are not all there. */
static uint32_t tcp_headers(const uint8_t *h, uint32_t n)
{
	unsigned hlen = (h[0] & 0xf) * 4;
	if (h[9] != IPPROTO_TCP || n < hlen + 20)
		return 0;
	unsigned thlen = (h[hlen + 12] >> 4) * 4;
	return thlen >= 20 && n >= hlen + thlen ? hlen + thlen : 0;
}

void ipv4_forward(struct netif *in, struct pkt *p, struct netif *out,
		  uint32_t nh)
{
	struct pkt_meta *m = pkt_meta(p);
	uint8_t *h = p->data;
	unsigned hlen = (h[0] & 0xf) * 4;
	uint32_t len = get16(h + 2); /* the frame is cut to it */
	if (h[8] <= 1) {
		in->count.ip_fwd_drop_ttl++;
		icmp_error(h, p->len, 11, 0, 0,
			   0); /* time exceeded in transit */
		goto drop;
	}
	/* Segments the host coalesced leave whole, cut again by the host
	 * behind out: each segment must fit out's MTU. */
	uint32_t hdrs = m->rx_gso_size ? tcp_headers(h, p->len) : 0;
	uint32_t seg = m->rx_gso_size ? hdrs + m->rx_gso_size : len;
	bool fits = seg <= out->mtu;
	if (!fits && (get16(h + 6) & IP_DF)) {
		in->count.ip_fwd_drop_too_big++;
		/* fragmentation needed */
		icmp_error(h, p->len, 3, 4, out->mtu, 0);
		goto drop;
	}
	if (m->rx_gso_size && (!fits || !hdrs || !m->csum_start ||
			       !(out->features & INGOT_NET_F_TSO4))) {
		in->count.ip_fwd_drop_too_big++; /* it cannot leave whole */
		goto drop;
	}
	if (nat_active() && nat_outbound(out, p) < 0)
		goto drop;
	bool as_is = fits && pkt_headroom(p) >= ETH_HLEN;
	if (m->csum_start && !partial_checksum(out, p, as_is)) {
		in->count.ip_drop_bad_header++;
		goto drop;
	}
	if (m->rx_gso_size) {
		m->tx_flags |= INGOT_NET_SLOT_TSO4;
		m->tx_gso_size = m->rx_gso_size;
	}
	h[8]--;
	put16(h + 10, 0);
	put16(h + 10, net_csum_fold(net_csum_add(0, h, hlen)));
	in->count.ip_forwarded++;
	if (!as_is) {
		fragment(out, nh, h, len);
		goto drop;
	}
	out->count.ip_packets_out++;
	out->count.ip_bytes_out += len;
	arp_output(out, p, nh);
	return;
drop:
	pkt_free(p);
}
