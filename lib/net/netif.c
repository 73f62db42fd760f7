/*
 * The network interfaces: each attached device's rings (abi.h), filled
 * with packets from the pool before the seal, and the poller that moves
 * received frames up the stack and reclaims sent ones, once per loop turn.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

struct netif net_ifs[INGOT_DEVICES_MAX];
unsigned net_nifs;
struct net_counters net_global;

static struct ingot_net_ring *ring_alloc(unsigned size)
{
	size_t bytes = (sizeof(struct ingot_net_ring) +
			size * sizeof(struct ingot_net_slot) + 63) &
		       ~(size_t)63; /* C11: a multiple of the alignment */
	struct ingot_net_ring *r = aligned_alloc(64, bytes);
	if (r) {
		memset(r, 0, bytes);
		r->size = size;
	}
	return r;
}

/* Posts free buffers on the RX ring while there is room and pool. */
static void rx_refill(struct netif *ifp)
{
	struct ingot_net_ring *r = ifp->rx;
	uint32_t avail = r->avail;
	while (avail - ifp->rx_done < r->size) {
		struct pkt *p = pkt_alloc();
		if (!p)
			break;
		struct pkt_meta *m = pkt_meta(p);
		uint32_t i = avail & (r->size - 1);
		ifp->rx_pkt[i] = p;
		r->slot[i].addr = (uintptr_t)(m->buf + NET_RX_OFFSET);
		r->slot[i].len = m->cap - NET_RX_OFFSET;
		avail++;
	}
	__atomic_store_n(&r->avail, avail, __ATOMIC_RELEASE);
}

static bool tx_put(struct netif *ifp, struct pkt *p)
{
	struct ingot_net_ring *r = ifp->tx;
	uint32_t avail = r->avail;
	if (avail - ifp->tx_done >= r->size)
		return false;
	uint32_t i = avail & (r->size - 1);
	ifp->tx_pkt[i] = p;
	r->slot[i].addr = (uintptr_t)p->data;
	r->slot[i].len = p->len;
	__atomic_store_n(&r->avail, avail + 1, __ATOMIC_RELEASE);
	ifp->count.eth_frames_out++;
	ifp->count.eth_bytes_out += p->len;
	return true;
}

void net_if_output(struct netif *ifp, struct pkt *p)
{
	if (!ifp->txq.head && tx_put(ifp, p))
		return;
	if (ifp->txq.len >= CONFIG_NET_TXQ_MAX) {
		ifp->count.drop_no_buffer++;
		pkt_free(p);
		return;
	}
	pkt_queue_push(&ifp->txq, p);
}

static int netif_poll(void *arg, uint64_t now)
{
	int work = 0;
	(void)arg;
	(void)now;
	for (unsigned n = 0; n < net_nifs; n++) {
		struct netif *ifp = &net_ifs[n];
		uint32_t used =
		    __atomic_load_n(&ifp->tx->used, __ATOMIC_ACQUIRE);
		for (; ifp->tx_done != used; ifp->tx_done++)
			pkt_free(
			    ifp->tx_pkt[ifp->tx_done & (ifp->tx->size - 1)]);
		while (ifp->txq.head && tx_put(ifp, ifp->txq.head))
			pkt_queue_pop(&ifp->txq);
		used = __atomic_load_n(&ifp->rx->used, __ATOMIC_ACQUIRE);
		for (; ifp->rx_done != used; ifp->rx_done++, work++) {
			uint32_t i = ifp->rx_done & (ifp->rx->size - 1);
			struct pkt *p = ifp->rx_pkt[i];
			p->data = pkt_meta(p)->buf + NET_RX_OFFSET;
			p->len = ifp->rx->slot[i].len;
			pkt_meta(p)->ifp = ifp;
			eth_input(ifp, p);
		}
		rx_refill(ifp);
	}
	return work;
}

static struct sched_poller poller = {.poll = netif_poll};

/*
 * The pool: CONFIG_NET_PKTS packets, or as many as a quarter of a small
 * guest's heap holds; rings as large as CONFIG_NET_RING_SLOTS, or a
 * quarter of the pool per interface and direction, a power of two.
 */
static unsigned ring_slots;

/* The build sized the pool for the app (options.h); each ring gets at most
 * a quarter of it, so that every interface keeps buffers to answer with. */
static int pools(unsigned nifs)
{
	ring_slots = CONFIG_NET_RING_SLOTS;
	while (ring_slots > 8 && ring_slots * 4 * nifs > CONFIG_NET_PKTS)
		ring_slots /= 2;
	if (pkt_pool_init(CONFIG_NET_PKTS) < 0) {
		printf("net: no memory for %u packet buffers (%u KiB): raise "
		       "--mem or lower CONFIG_NET_PKTS\n",
		       CONFIG_NET_PKTS, CONFIG_NET_PKTS * NET_PKT_SIZE / 1024);
		return -ENOMEM;
	}
	return ipv4_reass_init();
}

/* Before the seal: pools, rings, and the rings handed to the host. */
int net_init(void)
{
	const struct ingot_boot_info *bi = ingot_boot_info();
	unsigned nifs = 0;
	int rc;

	for (unsigned i = 0; i < bi->ndevices; i++)
		nifs += bi->devices[i].type == INGOT_DEVICE_NET &&
			bi->devices[i].attached;
	if (nifs && (rc = pools(nifs)) < 0)
		return rc;
	for (unsigned i = 0; i < bi->ndevices; i++) {
		const struct ingot_device *d = &bi->devices[i];
		if (d->type != INGOT_DEVICE_NET || !d->attached)
			continue;
		struct netif *ifp = &net_ifs[net_nifs];
		ifp->dev = d;
		ifp->handle = d->handle;
		memcpy(ifp->mac, d->u.net.mac, 6);
		ifp->mtu = d->u.net.mtu;
		ifp->tx = ring_alloc(ring_slots);
		ifp->rx = ring_alloc(ring_slots);
		ifp->tx_pkt = calloc(ring_slots, sizeof(struct pkt *));
		ifp->rx_pkt = calloc(ring_slots, sizeof(struct pkt *));
		if (!ifp->tx || !ifp->rx || !ifp->tx_pkt || !ifp->rx_pkt)
			return -ENOMEM;
		rx_refill(ifp);
		rc = ingot_net_attach(d->handle, ifp->tx, ifp->rx);
		if (rc < 0)
			return rc;
		net_nifs++;
	}
	return net_nifs ? sched_poller_add(&poller) : 0;
}
INGOT_INIT(net_init);
