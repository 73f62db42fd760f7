/* The host side of the network rings: see net_ring.h. */
#include <errno.h>
#include <string.h>

#include "msg.h"
#include "net_ring.h"
#include "sys.h"

#define SLOTS_OFFSET 16 /* offsetof(struct ingot_net_ring, slot) */

static _Noreturn void violation(const struct host_ring_dev *d, const char *what)
{
	host_stop("%s (device %s)", what, d->name);
}

static int check_ring(struct host_ring_dev *d, struct host_ring *hr,
		      uint64_t va)
{
	struct ingot_net_ring *r = d->guest_ptr(va, SLOTS_OFFSET, true);
	if (!r || va % 8)
		return -EINVAL;
	uint32_t size = r->size;
	if (!size || size > INGOT_NET_RING_MAX || (size & (size - 1)))
		return -EINVAL;
	r = d->guest_ptr(
	    va, SLOTS_OFFSET + size * sizeof(struct ingot_net_slot), true);
	if (!r)
		return -EINVAL;
	hr->ring = r;
	hr->size = size;
	hr->used = __atomic_load_n(&r->used, __ATOMIC_RELAXED);
	return 0;
}

int host_ring_attach(struct host_ring_dev *d, uint64_t tx_va, uint64_t rx_va)
{
	if (d->attached)
		return -EBUSY;
	int rc = check_ring(d, &d->tx, tx_va);
	if (rc == 0)
		rc = check_ring(d, &d->rx, rx_va);
	if (rc < 0)
		return rc;
	uint32_t f = d->tx.ring->features;
	if ((f & ~d->offered) ||
	    ((f & INGOT_NET_F_TSO4) && !(f & INGOT_NET_F_CSUM)))
		return -EINVAL;
	if (f && (rc = d->ops->set_offloads(d->ctx, f)) < 0)
		return rc;
	d->features = f;
	d->rx_checked.upto = d->rx.used;
	d->rx_burst = 1;
	d->attached = true;
	return 0;
}

/* Slots the guest has handed over, checked against the ring's size. */
static uint32_t pending(struct host_ring_dev *d, struct host_ring *hr)
{
	uint32_t avail = __atomic_load_n(&hr->ring->avail, __ATOMIC_ACQUIRE);
	uint32_t n = avail - hr->used;
	if (n > hr->size)
		violation(d, "network ring index out of range");
	return n;
}

static void complete(struct host_ring *hr)
{
	__atomic_store_n(&hr->ring->used, hr->used, __ATOMIC_RELEASE);
}

/* The slot a ring index names (a copy: the guest may change it). */
static struct ingot_net_slot slot_at(const struct host_ring *hr, uint32_t i)
{
	return hr->ring->slot[i & (hr->size - 1)];
}

/*
 * The TX frame at ring index at, of at most n slots, checked and gathered
 * into iov[1..]: returns its slot count, its length in *len and its
 * offloads in *f.
 */
static unsigned tx_frame(struct host_ring_dev *d, uint32_t at, uint32_t n,
			 struct kernel_iovec *iov, uint32_t *len,
			 struct host_frame *f)
{
	const struct host_ring *hr = &d->tx;
	struct ingot_net_slot s = slot_at(hr, at);
	uint32_t total = 0, max = INGOT_NET_FRAME_MAX;
	unsigned k = 0;
	uint16_t allowed = 0;

	if (d->features & INGOT_NET_F_CSUM)
		allowed |= INGOT_NET_SLOT_CSUM;
	if (d->features & INGOT_NET_F_TSO4)
		allowed |= INGOT_NET_SLOT_TSO4;
	*f = (struct host_frame){.flags = s.flags & ~INGOT_NET_SLOT_MORE,
				 .gso_size = s.gso_size,
				 .csum_start = s.csum_start,
				 .csum_offset = s.csum_offset};
	if (f->flags & ~allowed)
		violation(d, "network frame with offloads not taken");
	if (f->flags & INGOT_NET_SLOT_TSO4) {
		if (!(f->flags & INGOT_NET_SLOT_CSUM) || !f->gso_size)
			violation(d, "network TSO frame without its checksum "
				     "or segment size");
		max = INGOT_NET_GSO_FRAME_MAX;
	}
	for (;;) {
		if (k == INGOT_NET_CHAIN_MAX || k == n)
			violation(d, "network frame chained past its ring or "
				     "INGOT_NET_CHAIN_MAX slots");
		if (k && (s.flags & ~INGOT_NET_SLOT_MORE))
			violation(d, "network frame with offloads past its "
				     "first slot");
		if (!s.len || s.len > max - total)
			violation(d, "network frame length out of range");
		void *piece = d->guest_ptr(s.addr, s.len, false);
		if (!piece)
			violation(d, "network frame outside guest memory");
		iov[++k] = (struct kernel_iovec){piece, s.len};
		total += s.len;
		if (!(s.flags & INGOT_NET_SLOT_MORE))
			break;
		s = slot_at(hr, at + k);
	}
	if (total < 14)
		violation(d, "network frame length out of range");
	if ((f->flags & INGOT_NET_SLOT_CSUM) &&
	    (uint32_t)f->csum_start + f->csum_offset + 2 > total)
		violation(d, "network checksum offload outside its frame");
	*len = total;
	return k;
}

static void count_sent(struct host_ring_dev *d, int rc, uint32_t len,
		       const struct host_frame *f)
{
	if (rc < 0) {
		d->count.dropped_out_error++;
	} else {
		d->count.frames_out++;
		d->count.bytes_out += len;
		d->count.frames_out_tso +=
		    (f->flags & INGOT_NET_SLOT_TSO4) != 0;
	}
}

static bool service_tx(struct host_ring_dev *d)
{
	struct host_ring *hr = &d->tx;
	uint32_t n = pending(d, hr), done = 0;
	bool was_full = n == hr->size;
	struct kernel_iovec iov[INGOT_NET_CHAIN_MAX + 1];

	d->tx_blocked = false;
	while (done < n) {
		uint32_t len;
		struct host_frame f;
		unsigned k = tx_frame(d, hr->used, n - done, iov, &len, &f);
		int rc = d->ops->send(d->ctx, iov, k + 1, &f);
		if (rc == -EAGAIN) {
			d->tx_blocked = true;
			break;
		}
		count_sent(d, rc, len, &f);
		hr->used += k;
		done += k;
	}
	if (done)
		complete(hr);
	/* Completions are news only to a guest that ran out of slots: any
	 * other reclaims them at its next poll, and waking it just for that
	 * would cost an exit per reply. */
	return done && was_full;
}

/* Checks the RX buffers the guest handed over since the last time. */
static void rx_check(struct host_ring_dev *d, uint32_t n)
{
	struct host_rx_checked *rc = &d->rx_checked;
	const struct host_ring *hr = &d->rx;
	for (; rc->upto != hr->used + n; rc->upto++) {
		struct ingot_net_slot s = slot_at(hr, rc->upto);
		if (s.len < INGOT_NET_FRAME_MAX)
			violation(d, "network receive buffer smaller than a "
				     "frame");
		void *buf = d->guest_ptr(s.addr, s.len, true);
		if (!buf)
			violation(d, "network receive buffer outside "
				     "guest-writable memory");
		rc->buf[rc->upto & (hr->size - 1)].base = buf;
		rc->buf[rc->upto & (hr->size - 1)].len = s.len;
	}
}

/* The RX buffers from ring index at a frame may fill (of n handed over),
 * in iov[1..] with the spill byte after them; 0 while they could not hold
 * the largest frame the guest takes. */
static unsigned rx_buffers(struct host_ring_dev *d, uint32_t at, uint32_t n,
			   struct kernel_iovec *iov, uint8_t *spill)
{
	const struct host_ring *hr = &d->rx;
	bool tso = d->features & INGOT_NET_F_TSO4;
	uint32_t want = tso ? INGOT_NET_GSO_FRAME_MAX : INGOT_NET_FRAME_MAX;
	uint32_t room = 0;
	unsigned k = 0;
	while (room < want) {
		if (k == n || k == INGOT_NET_CHAIN_MAX)
			return 0;
		uint32_t i = (at + k) & (hr->size - 1);
		k++;
		iov[k] = (struct kernel_iovec){d->rx_checked.buf[i].base,
					       d->rx_checked.buf[i].len};
		room += (uint32_t)iov[k].len;
	}
	iov[k + 1] = (struct kernel_iovec){spill, 1};
	return k;
}

/* Whether the RX buffers handed over could take the largest frame (as
 * rx_buffers, without its checks: this only decides whether to wait). */
static bool rx_room_for_frame(const struct host_ring_dev *d)
{
	const struct host_ring *hr = &d->rx;
	uint32_t n =
	    __atomic_load_n(&hr->ring->avail, __ATOMIC_ACQUIRE) - hr->used;
	uint32_t want = d->features & INGOT_NET_F_TSO4 ? INGOT_NET_GSO_FRAME_MAX
						       : INGOT_NET_FRAME_MAX;
	uint32_t room = 0;
	for (uint32_t k = 0; k < n && k < INGOT_NET_CHAIN_MAX && room < want;
	     k++)
		room += slot_at(hr, hr->used + k).len;
	return n <= hr->size && room >= want;
}

/* Hands a received frame of len bytes in the buffers at iov[1..], from
 * ring index at, to the guest; returns the slots it took. */
static uint32_t rx_complete(struct host_ring *hr, uint32_t at,
			    const struct kernel_iovec *iov, uint32_t len,
			    const struct host_frame *f)
{
	uint32_t k = 0;
	for (;;) {
		struct ingot_net_slot *slot =
		    &hr->ring->slot[(at + k) & (hr->size - 1)];
		uint32_t part =
		    len < iov[k + 1].len ? len : (uint32_t)iov[k + 1].len;
		len -= part;
		slot->len = part;
		slot->flags = len ? INGOT_NET_SLOT_MORE : 0;
		slot->gso_size = slot->csum_start = slot->csum_offset = 0;
		if (k == 0) {
			slot->flags |= f->flags;
			slot->gso_size = f->gso_size;
			slot->csum_start = f->csum_start;
			slot->csum_offset = f->csum_offset;
		}
		k++;
		if (!len)
			return k;
	}
}

static void count_received(struct host_ring_dev *d, uint32_t len,
			   const struct host_frame *f)
{
	d->count.frames_in++;
	d->count.bytes_in += len;
	d->count.frames_in_tso += (f->flags & INGOT_NET_SLOT_TSO4) != 0;
}

static bool service_rx(struct host_ring_dev *d)
{
	struct host_ring *hr = &d->rx;
	uint32_t n = pending(d, hr), done = 0;
	struct kernel_iovec iov[INGOT_NET_CHAIN_MAX + 2];
	uint8_t spill;

	rx_check(d, n);
	for (;;) {
		unsigned k = rx_buffers(d, hr->used, n - done, iov, &spill);
		if (!k)
			break;
		uint32_t cap = 0;
		for (unsigned i = 1; i <= k; i++)
			cap += (uint32_t)iov[i].len;
		struct host_frame f = {0};
		int rc = d->ops->recv(d->ctx, iov, k + 2, &f);
		if (rc > (int)cap) {
			d->count.dropped_in_too_big++;
			continue;
		}
		if (rc < 0) {
			if (rc != -EAGAIN)
				d->count.errors_in++;
			break;
		}
		uint32_t used =
		    rx_complete(hr, hr->used, iov, (uint32_t)rc, &f);
		count_received(d, (uint32_t)rc, &f);
		hr->used += used;
		done += used;
	}
	if (done)
		complete(hr);
	return done != 0;
}

/*
 * Batched service: the frames to send and the reads to try go to the
 * backend together, one system call for all.  A read's buffers are chosen
 * before its frame's length is known, so each read is offered enough for
 * the largest frame (with TSO, up to INGOT_NET_CHAIN_MAX buffers, of which
 * a small frame fills one), and rx_burst reads go at once: as many as
 * found frames last time, and one more.  A frame that leaves buffers of
 * its read unused, or a read that found nothing, makes the frames after
 * it move down into those buffers, so that the guest always gets its
 * frames in consecutive slots.
 */
#define BATCH_IOV_MAX 2048

static struct {
	struct host_ring_io io[HOST_RING_BATCH_MAX];
	struct kernel_iovec iov[BATCH_IOV_MAX];
	uint32_t len[HOST_RING_BATCH_MAX];   /* a send's frame bytes */
	uint32_t slots[HOST_RING_BATCH_MAX]; /* ring slots of each */
	uint8_t spill[HOST_RING_BATCH_MAX];
	unsigned nio, niov;
} batch;

/* The next read or write of the batch, taking iovs entries; NULL when
 * the batch is full. */
static struct host_ring_io *batch_add(unsigned iovs)
{
	if (batch.nio == HOST_RING_BATCH_MAX ||
	    batch.niov + iovs > BATCH_IOV_MAX)
		return NULL;
	struct host_ring_io *io = &batch.io[batch.nio];
	*io = (struct host_ring_io){.iov = &batch.iov[batch.niov]};
	return io;
}

static void batch_took(struct host_ring_io *io, unsigned n, uint32_t slots)
{
	io->n = n;
	batch.slots[batch.nio++] = slots;
	batch.niov += n;
}

/* Queues the TX frames from ring index at (n slots pending there on). */
static void queue_sends(struct host_ring_dev *d, uint32_t at, uint32_t n)
{
	struct host_ring_io *io;
	for (uint32_t q = 0;
	     q < n && (io = batch_add(INGOT_NET_CHAIN_MAX + 1));) {
		unsigned k = tx_frame(d, at + q, n - q, io->iov,
				      &batch.len[batch.nio], &io->f);
		io->send = true;
		batch_took(io, k + 1, k);
		q += k;
	}
}

/* Queues up to reads receives into the RX buffers from ring index at (n
 * handed over there on); returns how many. */
static unsigned queue_receives(struct host_ring_dev *d, uint32_t at, uint32_t n,
			       unsigned reads)
{
	struct host_ring_io *io;
	unsigned r = 0;
	for (uint32_t q = 0;
	     r < reads && (io = batch_add(INGOT_NET_CHAIN_MAX + 2)); r++) {
		unsigned k = rx_buffers(d, at + q, n - q, io->iov,
					&batch.spill[batch.nio]);
		if (!k)
			break;
		batch_took(io, k + 2, k);
		q += k;
	}
	return r;
}

/* The sends' results: returns the slots done with (sent or dropped). */
static uint32_t sends_done(struct host_ring_dev *d, unsigned nsend)
{
	uint32_t done = 0;
	for (unsigned i = 0; i < nsend; i++) {
		const struct host_ring_io *io = &batch.io[i];
		if (io->res == -ECANCELED && i) /* after a dropped one */
			break;
		if (io->res == -EAGAIN) {
			d->tx_blocked = true;
			break;
		}
		count_sent(d, io->res, batch.len[i], &io->f);
		done += batch.slots[i];
	}
	return done;
}

/* Copies the frame of len bytes in the buffers at iov[1..] into the RX
 * buffers from ring index dst on, in moved[1..]: dst is below the frame's
 * first slot, and copying forward, byte by byte in order, never
 * overwrites a byte before it is read.  False if the buffers from dst on
 * cannot hold it in INGOT_NET_CHAIN_MAX slots. */
static bool move_down(const struct host_ring_dev *d, uint32_t dst,
		      const struct kernel_iovec *iov, uint32_t len,
		      struct kernel_iovec *moved)
{
	const struct host_ring *hr = &d->rx;
	size_t from = 1, at = 0; /* the next byte to copy: iov[from] + at */
	for (unsigned k = 1; len; k++) {
		if (k > INGOT_NET_CHAIN_MAX)
			return false;
		uint32_t slot = (dst + k - 1) & (hr->size - 1);
		moved[k] = (struct kernel_iovec){d->rx_checked.buf[slot].base,
						 d->rx_checked.buf[slot].len};
		size_t room = len < moved[k].len ? len : moved[k].len;
		for (size_t o = 0; o < room;) {
			size_t n = iov[from].len - at;
			if (n > room - o)
				n = room - o;
			memmove((uint8_t *)moved[k].base + o,
				(const uint8_t *)iov[from].base + at, n);
			o += n;
			at += n;
			if (at == iov[from].len) {
				from++;
				at = 0;
			}
		}
		len -= (uint32_t)room;
	}
	return true;
}

/* The receives' results, io[first..first + n): hands their frames to the
 * guest in consecutive slots from rx.used on.  Returns the frames; *dry
 * when a read found none. */
static unsigned receives_done(struct host_ring_dev *d, unsigned first,
			      unsigned n, bool *dry)
{
	struct host_ring *hr = &d->rx;
	uint32_t dst = hr->used, src = hr->used;
	unsigned frames = 0;

	*dry = false;
	for (unsigned i = first; i < first + n; src += batch.slots[i++]) {
		struct host_ring_io *io = &batch.io[i];
		const struct kernel_iovec *iov = io->iov;
		struct kernel_iovec moved[INGOT_NET_CHAIN_MAX + 1];
		uint32_t cap = 0;
		for (uint32_t j = 1; j <= batch.slots[i]; j++)
			cap += (uint32_t)iov[j].len;
		if (io->res < 0) {
			*dry = true;
			d->count.errors_in += io->res != -EAGAIN;
			continue;
		}
		if ((uint32_t)io->res > cap) {
			d->count.dropped_in_too_big++;
			continue;
		}
		if (src != dst) {
			if (!move_down(d, dst, iov, (uint32_t)io->res, moved)) {
				d->count.dropped_in_too_big++;
				continue;
			}
			iov = moved;
		}
		dst += rx_complete(hr, dst, iov, (uint32_t)io->res, &io->f);
		count_received(d, (uint32_t)io->res, &io->f);
		frames++;
	}
	hr->used = dst;
	return frames;
}

static bool service_batched(struct host_ring_dev *d)
{
	struct host_ring *tx = &d->tx, *rx = &d->rx;
	uint32_t tx_n = pending(d, tx), rx_n = pending(d, rx);
	uint32_t tx_start = tx->used, rx_start = rx->used;
	bool was_full = tx_n == tx->size, more_rx = true;

	rx_check(d, rx_n);
	d->tx_blocked = false;
	for (;;) {
		batch.nio = batch.niov = 0;
		if (!d->tx_blocked)
			queue_sends(d, tx->used, tx_n - (tx->used - tx_start));
		unsigned nsend = batch.nio, nread = 0;
		if (more_rx)
			nread = queue_receives(d, rx->used,
					       rx_n - (rx->used - rx_start),
					       d->rx_burst);
		if (!batch.nio)
			break;
		d->ops->batch(d->ctx, batch.io, batch.nio);
		tx->used += sends_done(d, nsend);
		bool dry;
		unsigned frames = receives_done(d, nsend, nread, &dry);
		more_rx = nread && !dry;
		uint32_t burst = more_rx ? 2 * nread : frames + 1;
		d->rx_burst =
		    burst < HOST_RING_BATCH_MAX ? burst : HOST_RING_BATCH_MAX;
	}
	if (tx->used != tx_start)
		complete(tx);
	if (rx->used != rx_start)
		complete(rx);
	/* As service_tx: completions are news only to a full ring. */
	return (tx->used != tx_start && was_full) || rx->used != rx_start;
}

bool host_ring_service(struct host_ring_dev *d)
{
	if (!d->attached)
		return false;
	if (d->ops->batch)
		return service_batched(d);
	bool tx = service_tx(d);
	bool rx = service_rx(d);
	return tx || rx;
}

short host_ring_poll_events(const struct host_ring_dev *d)
{
	if (!d->attached)
		return 0;
	/* Waiting for input with too few buffers for a frame would spin. */
	bool rx_room = rx_room_for_frame(d);
	return (short)((rx_room ? POLLIN : 0) | (d->tx_blocked ? POLLOUT : 0));
}
