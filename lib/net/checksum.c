/* The Internet checksum (RFC 1071): a ones'-complement sum of 16-bit
 * words, accumulated in 32 bits and folded at the end. */
#include "net_internal.h"

uint32_t net_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;
	for (; len >= 8; p += 8, len -= 8) {
		s += (uint32_t)get16(p) + get16(p + 2) + get16(p + 4) +
		     get16(p + 6);
	}
	for (; len >= 2; p += 2, len -= 2)
		s += get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	/* Keep 32 bits without losing carries: fold once into 17 bits. */
	s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t net_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
			 uint32_t len)
{
	uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) +
		     (dst & 0xffff) + proto + len;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* A piece's sum as if it started at an even offset of the frame: a piece
 * after an odd number of bytes has its bytes in the other halves. */
static uint32_t add_piece(uint32_t sum, const void *data, size_t len, bool *odd)
{
	if (!len)
		return sum;
	uint32_t s = net_csum_add(0, data, len);
	if (*odd) {
		s = (s & 0xffff) + (s >> 16);
		s = ((s & 0xff) << 8) | (s >> 8);
	}
	*odd ^= len & 1;
	return sum + s;
}

uint32_t net_csum_frame(uint32_t sum, struct pkt *p)
{
	bool odd = false;
	for (; p; p = pkt_meta(p)->frag) {
		const struct pkt_meta *m = pkt_meta(p);
		sum = add_piece(sum, p->data, p->len, &odd);
		sum = add_piece(sum, m->tx_ext, m->tx_ext_len, &odd);
	}
	return sum;
}

void net_csum_l4(struct netif *ifp, struct pkt *p, uint8_t *l4, uint8_t proto,
		 uint32_t src, uint32_t dst, uint32_t len, unsigned csum_off)
{
	uint32_t sum = net_csum_pseudo(src, dst, proto, len);
	struct pkt_meta *m = pkt_meta(p);
	put16(l4 + csum_off, 0);
	if (ifp && (ifp->features & INGOT_NET_F_CSUM)) {
		/* The host sums from l4 on and folds in what is here. */
		put16(l4 + csum_off, (uint16_t)~net_csum_fold(sum));
		m->tx_flags |= INGOT_NET_SLOT_CSUM;
		m->tx_l4 = l4;
		m->tx_csum_off = (uint8_t)csum_off;
		return;
	}
	uint16_t c = net_csum_fold(net_csum_frame(sum, p));
	/* UDP sends a computed 0 as all ones: 0 means "no checksum". */
	put16(l4 + csum_off, c == 0 && proto == IPPROTO_UDP ? 0xffff : c);
}
