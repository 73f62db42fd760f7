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

/* Slots frame p takes on the TX ring: one per piece's data, one per
 * piece's external bytes. */
static uint32_t tx_slots(struct pkt *p)
{
	uint32_t n = 0;
	for (; p; p = pkt_meta(p)->frag)
		n += (p->len != 0) + (pkt_meta(p)->tx_ext_len != 0);
	return n;
}

static void tx_slot(struct netif *ifp, uint32_t i, const void *addr,
		    uint32_t len, struct pkt *owner)
{
	struct ingot_net_slot *s = &ifp->tx->slot[i & (ifp->tx->size - 1)];
	s->addr = (uintptr_t)addr;
	s->len = len;
	s->flags = INGOT_NET_SLOT_MORE;
	ifp->tx_pkt[i & (ifp->tx->size - 1)] = owner;
}

/* Puts frame p on the TX ring, each piece freed when the host is done with
 * the last slot it takes; false (p untouched) if the ring has no room. */
static bool tx_put(struct netif *ifp, struct pkt *p)
{
	struct ingot_net_ring *r = ifp->tx;
	uint32_t avail = r->avail, need = tx_slots(p);
	if (r->size - (avail - ifp->tx_done) < need)
		return false;
	struct pkt_meta *head = pkt_meta(p);
	struct ingot_net_slot *first = &r->slot[avail & (r->size - 1)];
	uint32_t len = pkt_frame_len(p);
	for (struct pkt *q = p, *next; q; q = next) {
		struct pkt_meta *m = pkt_meta(q);
		next = m->frag;
		m->frag = NULL;
		if (q->len)
			tx_slot(ifp, avail++, q->data, q->len,
				m->tx_ext_len ? NULL : q);
		if (m->tx_ext_len)
			tx_slot(ifp, avail++, m->tx_ext, m->tx_ext_len, q);
	}
	r->slot[(avail - 1) & (r->size - 1)].flags = 0;
	first->flags |= head->tx_flags;
	if (head->tx_flags & INGOT_NET_SLOT_CSUM) {
		first->csum_start = (uint16_t)(head->tx_l4 - p->data);
		first->csum_offset = head->tx_csum_off;
	}
	first->gso_size = head->tx_gso_size;
	__atomic_store_n(&r->avail, avail, __ATOMIC_RELEASE);
	ifp->count.eth_frames_out++;
	ifp->count.eth_bytes_out += len;
	return true;
}

void net_if_output(struct netif *ifp, struct pkt *p)
{
	uint32_t slots = tx_slots(p);
	if (slots > INGOT_NET_CHAIN_MAX || slots > ifp->tx->size) {
		ifp->count.tx_drop_too_many_pieces++; /* a bug of ours */
		pkt_free(p);
		return;
	}
	if (!ifp->txq.head && tx_put(ifp, p))
		return;
	if (ifp->txq.len >= CONFIG_NET_TXQ_MAX && !pkt_meta(p)->tx_keep) {
		ifp->count.tx_drop_queue_full++;
		pkt_free(p);
		return;
	}
	pkt_queue_push(&ifp->txq, p);
}

/* The received frame at rx_done, its pieces linked, and rx_done past it. */
static struct pkt *rx_frame(struct netif *ifp, uint32_t used)
{
	struct ingot_net_ring *r = ifp->rx;
	struct pkt *head = NULL, **link = &head;
	uint32_t start = ifp->rx_done;
	uint16_t first = r->slot[start & (r->size - 1)].flags, flags;
	do {
		uint32_t i = ifp->rx_done++ & (r->size - 1);
		struct pkt *p = ifp->rx_pkt[i];
		flags = r->slot[i].flags;
		p->data = pkt_meta(p)->buf + NET_RX_OFFSET;
		p->len = r->slot[i].len;
		pkt_meta(p)->ifp = ifp;
		*link = p;
		link = &pkt_meta(p)->frag;
	} while ((flags & INGOT_NET_SLOT_MORE) && ifp->rx_done != used);
	const struct ingot_net_slot *s0 = &r->slot[start & (r->size - 1)];
	struct pkt_meta *m = pkt_meta(head);
	m->csum_ok = first & INGOT_NET_SLOT_CSUM_OK;
	if (m->csum_ok && s0->csum_start) {
		m->csum_start = s0->csum_start;
		m->csum_off = s0->csum_offset;
	}
	if (first & INGOT_NET_SLOT_TSO4)
		m->rx_gso_size = s0->gso_size;
	return head;
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
		if (net_txq_room_hook && ifp->txq.len < CONFIG_NET_TXQ_MAX / 2)
			net_txq_room_hook();
		used = __atomic_load_n(&ifp->rx->used, __ATOMIC_ACQUIRE);
		while (ifp->rx_done != used) {
			eth_input(ifp, rx_frame(ifp, used));
			work++;
		}
		rx_refill(ifp);
	}
	return work;
}

void (*net_flush_hook)(void);
void (*net_txq_room_hook)(void);

static void netif_flush(void *arg)
{
	(void)arg;
	if (net_flush_hook)
		net_flush_hook();
}

static struct sched_poller poller = {.poll = netif_poll, .flush = netif_flush};

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

/* The offloads to take of those offered: checksums always; TSO if the app
 * wants it (CONFIG_NET_TSO) and the RX ring can hold a 64 KiB frame twice
 * over (abi.h: the host waits for buffers enough for one).  A forwarder
 * takes TSO only where every interface offers it: a coalesced frame must
 * leave whole by whichever interface it is routed to. */
static uint32_t offloads(uint32_t offered, uint32_t everyone)
{
	uint32_t f = offered & INGOT_NET_F_CSUM;
	if (CONFIG_NET_FORWARD)
		offered &= everyone;
	if (CONFIG_NET_TSO && f && (offered & INGOT_NET_F_TSO4) &&
	    ring_slots >= INGOT_NET_CHAIN_MAX)
		f |= INGOT_NET_F_TSO4;
	return f;
}

/* Before the seal: pools, rings, and the rings handed to the host. */
int net_init(void)
{
	const struct ingot_boot_info *bi = ingot_boot_info();
	unsigned nifs = 0;
	uint32_t everyone = ~0u; /* the offloads every interface offers */
	int rc;

	for (unsigned i = 0; i < bi->ndevices; i++)
		if (bi->devices[i].type == INGOT_DEVICE_NET &&
		    bi->devices[i].attached) {
			nifs++;
			everyone &= bi->devices[i].u.net.features;
		}
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
		if (ifp->tx) {
			ifp->features = offloads(d->u.net.features, everyone);
			ifp->tx->features = ifp->features;
		}
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
