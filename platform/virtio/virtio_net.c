/*
 * virtio-net: the platform is the "host" of the ingot network rings
 * (abi.h).  At every ingot_poll it moves the frames the guest put on its
 * TX ring, and the empty buffers it put on its RX ring, onto the device's
 * virtqueues as descriptors pointing at the same buffers (no copy), and
 * hands back what the device completed.  The 12-byte virtio_net_hdr of
 * each chain lives in the platform's own arrays, a descriptor of its own.
 *
 * With mergeable RX buffers a large frame spans several chains, and the
 * device writes the first 12 bytes of each further chain into that chain's
 * header descriptor; those bytes belong at the end of the previous buffer,
 * which is why every RX descriptor leaves 12 bytes of its buffer unused:
 * they are moved there (12 bytes per buffer, never the payload).
 *
 * The device is checked as the kvm monitor checks the guest: a used entry
 * naming a chain it was not given, a length past its buffer, a frame over
 * more buffers than exist, offloads never negotiated, stop the guest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio.h"
#include "virtio_dev.h"

#define NET_F_CSUM       (1ULL << 0)
#define NET_F_GUEST_CSUM (1ULL << 1)
#define NET_F_MAC        (1ULL << 5)
#define NET_F_GUEST_TSO4 (1ULL << 7)
#define NET_F_HOST_TSO4  (1ULL << 11)
#define NET_F_MRG_RXBUF  (1ULL << 15)

#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define HDR_GSO_NONE     0
#define HDR_GSO_TCPV4    1
#define HDR_GSO_ECN      0x80

#define RXQ 0
#define TXQ 1

struct vnet_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
};
#define HDR sizeof(struct vnet_hdr) /* 12: VERSION_1 always has num_buffers */

struct vnet {
	struct vdev *dev;
	struct ingot_device *info;
	uint64_t offered, taken; /* the device's features */
	bool attached;
	uint32_t features; /* INGOT_NET_F_* the guest took */
	struct ingot_net_ring *tx, *rx;
	uint32_t tx_mask, rx_mask;
	struct vq txq, rxq;
	/* TX: ring slots [tx_used, tx_posted) are on the queue, each frame
	 * under the head that tx_first/tx_count describe. */
	uint32_t tx_used, tx_posted;
	uint32_t *tx_first;
	uint16_t *tx_count;
	uint8_t *tx_done; /* per ring slot: completed, not yet handed back */
	struct vnet_hdr *tx_hdr; /* per descriptor */
	/* RX: ring slots [rx_used, rx_posted) are on the queue, in order;
	 * each slot's chain head, buffer and capacity as checked. */
	uint32_t rx_used, rx_posted;
	uint16_t *rx_head;
	uint8_t **rx_buf;
	uint32_t *rx_cap;
	struct vnet_hdr *rx_hdr; /* per descriptor */
};

static struct vnet nets[INGOT_DEVICES_MAX]; /* by handle */

static _Noreturn void stop(const struct vnet *n, const char *what)
{
	char msg[160];
	snprintf(msg, sizeof msg, "ingot: stopped: %s (device %s, %s)\n", what,
		 n->info->name, n->dev->where);
	serial_puts(msg);
	virtio_exit_raw(INGOT_EXIT_STOPPED);
}

/* The ingot INGOT_NET_F_* a device's features allow (abi.h): checksums
 * with its CSUM; TSO4 with HOST_TSO4 as well. */
static uint32_t ingot_offers(uint64_t f)
{
	uint32_t o = 0;
	if (f & NET_F_CSUM) {
		o |= INGOT_NET_F_CSUM;
		if (f & NET_F_HOST_TSO4)
			o |= INGOT_NET_F_TSO4;
	}
	return o;
}

/* What to ask of the device for the offloads the guest took: received
 * checksums and coalesced frames only where the device offers them, and
 * coalesced frames only over mergeable buffers (a chain per buffer). */
static uint64_t wanted(uint64_t offered, uint32_t taken)
{
	uint64_t w = VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX | NET_F_MAC |
		     NET_F_MRG_RXBUF;
	if (taken & INGOT_NET_F_CSUM)
		w |= NET_F_CSUM | NET_F_GUEST_CSUM;
	if (taken & INGOT_NET_F_TSO4) {
		w |= NET_F_HOST_TSO4;
		if ((offered & (NET_F_MRG_RXBUF | NET_F_GUEST_CSUM)) ==
		    (NET_F_MRG_RXBUF | NET_F_GUEST_CSUM))
			w |= NET_F_GUEST_TSO4;
	}
	return w & offered;
}

static void found(struct vnet *n, struct vdev *d, struct ingot_device *info)
{
	char msg[160];
	n->dev = d;
	n->info = info;
	d->ops->set_status(d, 0);
	d->ops->set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	n->offered = d->ops->features(d);
	if (!(n->offered & VIRTIO_F_VERSION_1)) {
		snprintf(msg, sizeof msg,
			 "virtio-net: %s offers no VIRTIO_F_VERSION_1: "
			 "interface %s not attached\n",
			 d->where, info->name);
		serial_puts(msg);
		return;
	}
	struct ingot_net_info *ni = &info->u.net;
	if (n->offered & NET_F_MAC) {
		for (unsigned i = 0; i < 6; i++)
			ni->mac[i] = d->ops->config8(d, i);
	} else {
		/* Locally administered, unicast, from the boot's seed. */
		uint64_t r = virtio.info.random_seed;
		for (unsigned i = 0; i < 6; i++)
			ni->mac[i] = (uint8_t)(r >> (8 * i));
		ni->mac[0] = (uint8_t)((ni->mac[0] & 0xfe) | 0x02);
	}
	ni->mtu = 1500;
	ni->features = ingot_offers(n->offered);
	info->attached = true;
}

static void vnet_found(uint32_t h, struct vdev *d)
{
	found(&nets[h], d, &virtio.info.devices[h]);
}

void vnet_setup(void)
{
	vdev_match(VIRTIO_ID_NET, vnet_found);
}

static bool ring_ok(const struct ingot_net_ring *r)
{
	return vdev_ring_ok(r, sizeof *r, sizeof r->slot[0],
			    INGOT_NET_RING_MAX);
}

static int queues(struct vnet *n)
{
	struct vdev *d = n->dev;
	bool ev = n->taken & VIRTIO_F_EVENT_IDX;
	uint16_t rs = vdev_queue_size(d, RXQ), ts = vdev_queue_size(d, TXQ);
	/* A TX frame's chain: its header and up to INGOT_NET_CHAIN_MAX. */
	if (rs < 2 || ts <= INGOT_NET_CHAIN_MAX)
		return -EIO;
	int rc = vq_init(&n->rxq, RXQ, rs, ev);
	if (rc == 0)
		rc = vq_init(&n->txq, TXQ, ts, ev);
	if (rc < 0)
		return rc;
	uint32_t tsz = n->tx_mask + 1, rsz = n->rx_mask + 1;
	n->tx_first = calloc(ts, sizeof *n->tx_first);
	n->tx_count = calloc(ts, sizeof *n->tx_count);
	n->tx_hdr = calloc(ts, sizeof *n->tx_hdr);
	n->tx_done = calloc(tsz, 1);
	n->rx_hdr = calloc(rs, sizeof *n->rx_hdr);
	n->rx_head = calloc(rsz, sizeof *n->rx_head);
	n->rx_buf = calloc(rsz, sizeof *n->rx_buf);
	n->rx_cap = calloc(rsz, sizeof *n->rx_cap);
	if (!n->tx_first || !n->tx_count || !n->tx_hdr || !n->tx_done ||
	    !n->rx_hdr || !n->rx_head || !n->rx_buf || !n->rx_cap)
		return -ENOMEM;
	d->ops->queue_enable(d, &n->rxq);
	d->ops->queue_enable(d, &n->txq);
	return 0;
}

static void rx_post(struct vnet *n);

int vnet_attach(uint32_t handle, struct ingot_net_ring *tx,
		struct ingot_net_ring *rx)
{
	if (handle >= virtio.info.ndevices)
		return -ENODEV;
	struct vnet *n = &nets[handle];
	if (!n->info || !n->info->attached || n->info->type != INGOT_DEVICE_NET)
		return -ENODEV;
	if (n->attached)
		return -EBUSY;
	if (!ring_ok(tx) || !ring_ok(rx))
		return -EINVAL;
	uint32_t f = tx->features;
	if ((f & ~n->info->u.net.features) ||
	    ((f & INGOT_NET_F_TSO4) && !(f & INGOT_NET_F_CSUM)))
		return -EINVAL;
	struct vdev *d = n->dev;
	n->taken = vdev_negotiate(d, wanted(n->offered, f));
	if (!n->taken)
		return -EIO;
	n->features = f;
	n->tx = tx;
	n->rx = rx;
	n->tx_mask = tx->size - 1;
	n->rx_mask = rx->size - 1;
	n->tx_used = n->tx_posted = tx->used;
	n->rx_used = n->rx_posted = rx->used;
	int rc = queues(n);
	if (rc < 0) {
		d->ops->set_status(d, VIRTIO_STATUS_FAILED);
		return rc;
	}
	n->attached = true;
	d->ops->set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_FEATURES_OK |
				  VIRTIO_STATUS_DRIVER_OK);
	rx_post(n);
	return 0;
}

static void kick(struct vnet *n, struct vq *q)
{
	vq_publish(q);
	if (vq_kick_needed(q))
		n->dev->ops->notify(n->dev, q);
}

/* Frames the device has sent: their slots back to the guest, in order
 * whatever the order the device completed them in.  Returns whether any
 * came back. */
static bool tx_reclaim(struct vnet *n)
{
	struct vq *q = &n->txq;
	uint16_t k = vq_used_pending(q);
	if (k > q->size)
		stop(n, "virtio-net: TX used index out of range");
	for (; k; k--) {
		struct vq_used_elem e = vq_used_peek(q, 0);
		if (!vq_head_in_flight(q, e.id))
			stop(n, "virtio-net: TX completion of a chain never "
				"given");
		uint16_t h = (uint16_t)e.id;
		for (uint32_t i = 0; i < n->tx_count[h]; i++)
			n->tx_done[(n->tx_first[h] + i) & n->tx_mask] = 1;
		vq_used_take(q, h);
	}
	uint32_t was = n->tx_used;
	while (n->tx_used != n->tx_posted &&
	       n->tx_done[n->tx_used & n->tx_mask])
		n->tx_done[n->tx_used++ & n->tx_mask] = 0;
	if (n->tx_used == was)
		return false;
	__atomic_store_n(&n->tx->used, n->tx_used, __ATOMIC_RELEASE);
	return true;
}

/* The TX frame at tx_posted, of at most avail slots, checked as
 * host/net_ring.c checks it, in bufs[1..]; its header in *h.  Returns its
 * slot count. */
static unsigned tx_frame(struct vnet *n, uint32_t avail, struct vq_buf *bufs,
			 struct vnet_hdr *h)
{
	const struct ingot_net_ring *r = n->tx;
	struct ingot_net_slot s = r->slot[n->tx_posted & n->tx_mask];
	uint16_t allowed = 0, flags = s.flags & ~INGOT_NET_SLOT_MORE;
	uint32_t total = 0, max = INGOT_NET_FRAME_MAX;
	unsigned k = 0;

	if (n->features & INGOT_NET_F_CSUM)
		allowed |= INGOT_NET_SLOT_CSUM;
	if (n->features & INGOT_NET_F_TSO4)
		allowed |= INGOT_NET_SLOT_TSO4;
	if (flags & ~allowed)
		stop(n, "network frame with offloads not taken");
	*h = (struct vnet_hdr){0};
	if (flags & INGOT_NET_SLOT_TSO4) {
		if (!(flags & INGOT_NET_SLOT_CSUM) || !s.gso_size)
			stop(n, "network TSO frame without its checksum or "
				"segment size");
		max = INGOT_NET_GSO_FRAME_MAX;
		h->gso_type = HDR_GSO_TCPV4;
		h->gso_size = s.gso_size;
	}
	if (flags & INGOT_NET_SLOT_CSUM) {
		h->flags = HDR_F_NEEDS_CSUM;
		h->csum_start = s.csum_start;
		h->csum_offset = s.csum_offset;
		h->hdr_len = (uint16_t)(s.csum_start + s.csum_offset + 2);
	}
	for (;;) {
		if (k == INGOT_NET_CHAIN_MAX || k == avail)
			stop(n, "network frame chained past its ring or "
				"INGOT_NET_CHAIN_MAX slots");
		if (k && (s.flags & ~INGOT_NET_SLOT_MORE))
			stop(n, "network frame with offloads past its first "
				"slot");
		if (!s.len || s.len > max - total)
			stop(n, "network frame length out of range");
		if (!vdev_dma_ok(s.addr, s.len, false))
			stop(n, "network frame outside guest memory");
		bufs[++k] = (struct vq_buf){(const void *)(uintptr_t)s.addr,
					    s.len, false};
		total += s.len;
		if (!(s.flags & INGOT_NET_SLOT_MORE))
			break;
		s = r->slot[(n->tx_posted + k) & n->tx_mask];
	}
	if (total < 14)
		stop(n, "network frame length out of range");
	if ((flags & INGOT_NET_SLOT_CSUM) &&
	    (uint32_t)h->csum_start + h->csum_offset + 2 > total)
		stop(n, "network checksum offload outside its frame");
	return k;
}

/* New TX frames onto the queue while it has descriptors for them. */
static void tx_post(struct vnet *n)
{
	struct vq *q = &n->txq;
	uint32_t avail = __atomic_load_n(&n->tx->avail, __ATOMIC_ACQUIRE);
	if (avail - n->tx_used > n->tx_mask + 1)
		stop(n, "network ring index out of range");
	struct vq_buf bufs[INGOT_NET_CHAIN_MAX + 1];
	bool added = false;
	while (n->tx_posted != avail) {
		struct vnet_hdr h;
		unsigned k = tx_frame(n, avail - n->tx_posted, bufs, &h);
		if (q->nfree < k + 1)
			break; /* the rest once the device sent some */
		uint16_t head = q->free_head;
		n->tx_hdr[head] = h;
		bufs[0] = (struct vq_buf){&n->tx_hdr[head], HDR, false};
		vq_add(q, bufs, k + 1);
		n->tx_first[head] = n->tx_posted;
		n->tx_count[head] = (uint16_t)k;
		n->tx_posted += k;
		added = true;
	}
	if (added)
		kick(n, q);
}

/* Empty RX buffers onto the queue, a chain each: its header, then the
 * buffer less the 12 bytes a merged frame may need (above). */
static void rx_post(struct vnet *n)
{
	struct vq *q = &n->rxq;
	uint32_t avail = __atomic_load_n(&n->rx->avail, __ATOMIC_ACQUIRE);
	if (avail - n->rx_used > n->rx_mask + 1)
		stop(n, "network ring index out of range");
	bool added = false;
	while (n->rx_posted != avail && q->nfree >= 2) {
		uint32_t i = n->rx_posted & n->rx_mask;
		struct ingot_net_slot s = n->rx->slot[i];
		if (s.len < INGOT_NET_FRAME_MAX + HDR)
			stop(n, "network receive buffer smaller than a frame "
				"and a virtio-net header");
		if (!vdev_dma_ok(s.addr, s.len, true))
			stop(n, "network receive buffer outside "
				"guest-writable memory");
		uint16_t head = q->free_head;
		struct vq_buf bufs[2] = {
		    {&n->rx_hdr[head], HDR, true},
		    {(const void *)(uintptr_t)s.addr, s.len - (uint32_t)HDR,
		     true},
		};
		vq_add(q, bufs, 2);
		n->rx_head[i] = head;
		n->rx_buf[i] = (uint8_t *)(uintptr_t)s.addr;
		n->rx_cap[i] = s.len;
		n->rx_posted++;
		added = true;
	}
	if (added)
		kick(n, q);
}

/* The ring slot of the k-th buffer of the frame at rx_used, filled from
 * the used entry e; prev the slot before it in the frame.  Returns the
 * frame bytes it holds. */
static uint32_t rx_piece(struct vnet *n, uint32_t k, struct vq_used_elem e,
			 struct ingot_net_slot *prev)
{
	uint32_t i = (n->rx_used + k) & n->rx_mask;
	struct ingot_net_slot *s = &n->rx->slot[i];
	if (e.id != n->rx_head[i])
		stop(n, "virtio-net: RX buffers used out of order");
	if (e.len > n->rx_cap[i] || (k == 0 && e.len < HDR) ||
	    (k && e.len == 0))
		stop(n, "virtio-net: RX length out of range");
	const uint8_t *hdr_bytes = (const uint8_t *)&n->rx_hdr[e.id];
	*s = (struct ingot_net_slot){.addr = s->addr};
	if (k == 0) {
		s->len = e.len - (uint32_t)HDR;
	} else if (e.len > HDR) {
		memcpy(n->rx_buf[(i - 1) & n->rx_mask] + prev->len, hdr_bytes,
		       HDR);
		prev->len += (uint32_t)HDR;
		prev->flags |= INGOT_NET_SLOT_MORE;
		s->len = e.len - (uint32_t)HDR;
		return e.len;
	} else {
		memcpy(n->rx_buf[i], hdr_bytes, e.len);
		prev->flags |= INGOT_NET_SLOT_MORE;
		s->len = e.len;
	}
	return s->len;
}

/* The offloads of a received frame of len bytes, on its first slot. */
static void rx_offloads(struct vnet *n, const struct vnet_hdr *h,
			struct ingot_net_slot *s, uint32_t len)
{
	uint8_t gso = h->gso_type & ~HDR_GSO_ECN;
	if (gso == HDR_GSO_TCPV4 && (n->taken & NET_F_GUEST_TSO4)) {
		s->flags |= INGOT_NET_SLOT_TSO4;
		s->gso_size = h->gso_size;
	} else if (gso != HDR_GSO_NONE) {
		stop(n, "virtio-net: received frame with an offload never "
			"negotiated");
	}
	if (!(n->taken & NET_F_GUEST_CSUM) ||
	    !(h->flags & (HDR_F_NEEDS_CSUM | HDR_F_DATA_VALID)))
		return;
	if ((h->flags & HDR_F_NEEDS_CSUM) &&
	    (uint32_t)h->csum_start + h->csum_offset + 2 > len)
		stop(n, "virtio-net: received checksum offload outside its "
			"frame");
	s->flags |= INGOT_NET_SLOT_CSUM_OK;
	s->csum_start = h->csum_start;
	s->csum_offset = h->csum_offset;
}

/* Frames the device has written, onto the guest's ring; whether any. */
static bool rx_receive(struct vnet *n)
{
	struct vq *q = &n->rxq;
	uint16_t k = vq_used_pending(q);
	uint32_t was = n->rx_used;
	if (k > q->size)
		stop(n, "virtio-net: RX used index out of range");
	while (k) {
		struct vq_used_elem e = vq_used_peek(q, 0);
		if (!vq_head_in_flight(q, e.id) || n->rx_used == n->rx_posted)
			stop(n, "virtio-net: RX buffer used that was never "
				"given");
		struct vnet_hdr h = n->rx_hdr[e.id];
		uint16_t nb = (n->taken & NET_F_MRG_RXBUF) ? h.num_buffers : 1;
		if (!nb || nb > INGOT_NET_CHAIN_MAX ||
		    nb > n->rx_posted - n->rx_used)
			stop(n, "virtio-net: RX frame over more buffers than "
				"given");
		if (nb > k)
			break; /* its last buffers are not there yet */
		struct ingot_net_slot *first =
		    &n->rx->slot[n->rx_used & n->rx_mask];
		uint32_t len = 0;
		for (uint16_t j = 0; j < nb; j++) {
			struct vq_used_elem ej = vq_used_peek(q, j);
			struct ingot_net_slot *prev =
			    &n->rx->slot[(n->rx_used + j - 1) & n->rx_mask];
			len += rx_piece(n, j, ej, prev);
		}
		if (len > INGOT_NET_GSO_FRAME_MAX)
			stop(n, "virtio-net: RX frame longer than 64 KiB");
		rx_offloads(n, &h, first, len);
		for (uint16_t j = 0; j < nb; j++)
			vq_used_take(q, (uint16_t)vq_used_peek(q, 0).id);
		n->rx_used += nb;
		k = (uint16_t)(k - nb);
	}
	if (n->rx_used == was)
		return false;
	__atomic_store_n(&n->rx->used, n->rx_used, __ATOMIC_RELEASE);
	return true;
}

static bool tx_ring_full(const struct vnet *n)
{
	return __atomic_load_n(&n->tx->avail, __ATOMIC_RELAXED) - n->tx_used ==
	       n->tx_mask + 1;
}

uint64_t vnet_service(void)
{
	uint64_t ready = 0;
	for (uint32_t h = 0; h < virtio.info.ndevices; h++) {
		struct vnet *n = &nets[h];
		if (!n->attached)
			continue;
		/* Completions are news only to a guest out of TX slots (as
		 * on kvm): any other reclaims them at its next turn. */
		bool full = tx_ring_full(n);
		bool sent = tx_reclaim(n);
		tx_post(n);
		bool got = rx_receive(n);
		rx_post(n);
		if (got || (full && sent))
			ready |= 1ULL << h;
	}
	return ready;
}

bool vnet_arm(void)
{
	for (uint32_t h = 0; h < virtio.info.ndevices; h++) {
		struct vnet *n = &nets[h];
		if (!n->attached)
			continue;
		if (vq_arm(&n->rxq))
			return false;
		/* TX news only for a full ring, or frames waiting for
		 * descriptors. */
		if ((tx_ring_full(n) ||
		     n->tx_posted !=
			 __atomic_load_n(&n->tx->avail, __ATOMIC_RELAXED)) &&
		    vq_arm(&n->txq))
			return false;
	}
	return true;
}

void vnet_woken(uint32_t pending)
{
	for (uint32_t h = 0; h < virtio.info.ndevices; h++) {
		struct vnet *n = &nets[h];
		if (!n->attached)
			continue;
		if (pending & (1u << n->dev->irq))
			n->dev->ops->irq_ack(n->dev);
		vq_disarm(&n->rxq);
		vq_disarm(&n->txq);
	}
}
