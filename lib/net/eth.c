/* Ethernet II: frames to and from the interface, dispatched by type. */
#include <string.h>

#include "net_internal.h"

const uint8_t eth_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

void eth_input(struct netif *ifp, struct pkt *p)
{
	ifp->count.eth_frames_in++;
	ifp->count.eth_bytes_in += pkt_frame_len(p);
	if (p->len < ETH_HLEN) {
		ifp->count.eth_drop_truncated++;
		pkt_free(p);
		return;
	}
	const uint8_t *h = p->data;
	if (memcmp(h, ifp->mac, 6) != 0 && memcmp(h, eth_broadcast, 6) != 0) {
		ifp->count.eth_drop_not_for_us++; /* multicast included */
		pkt_free(p);
		return;
	}
	pkt_meta(p)->link_broadcast = h[0] & 1;
	uint16_t type = get16(h + 12);
	pkt_pull(p, ETH_HLEN);
	switch (type) {
	case ETH_P_IP:
		ipv4_input(ifp, p);
		break;
	case ETH_P_ARP:
		arp_input(ifp, p);
		break;
	default:
		ifp->count.eth_drop_unknown_type++;
		pkt_free(p);
	}
}

void eth_output(struct netif *ifp, struct pkt *p, const uint8_t dst[6],
		uint16_t type)
{
	uint8_t *h = pkt_push(p, ETH_HLEN);
	memcpy(h, dst, 6);
	memcpy(h + 6, ifp->mac, 6);
	put16(h + 12, type);
	/* The minimum frame is 60 bytes before the FCS: pad with zeros (a
	 * frame in pieces is padded by the device, as virtio-net's is). */
	if (p->len < 60 && !pkt_meta(p)->frag && !pkt_meta(p)->tx_ext_len) {
		memset(p->data + p->len, 0, 60 - p->len);
		p->len = 60;
	}
	net_if_output(ifp, p);
}
