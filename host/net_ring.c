/* The host side of the network rings: see net_ring.h. */
#include <errno.h>

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
	if (rc == 0)
		d->attached = true;
	return rc;
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

static bool service_tx(struct host_ring_dev *d)
{
	struct host_ring *hr = &d->tx;
	uint32_t n = pending(d, hr), done = 0;
	bool was_full = n == hr->size;

	d->tx_blocked = false;
	for (; done < n; done++) {
		struct ingot_net_slot s =
		    hr->ring->slot[hr->used & (hr->size - 1)];
		if (s.len < 14 || s.len > INGOT_NET_FRAME_MAX)
			violation(d, "network frame length out "
				     "of range");
		const void *frame = d->guest_ptr(s.addr, s.len, false);
		if (!frame)
			violation(d, "network frame outside "
				     "guest memory");
		int rc = d->ops->send(d->ctx, frame, s.len);
		if (rc == -EAGAIN) {
			d->tx_blocked = true;
			break;
		}
		if (rc < 0) {
			d->count.dropped_out_error++;
		} else {
			d->count.frames_out++;
			d->count.bytes_out += s.len;
		}
		hr->used++;
	}
	if (done)
		complete(hr);
	/* Completions are news only to a guest that ran out of slots: any
	 * other reclaims them at its next poll, and waking it just for that
	 * would cost an exit per reply. */
	return done && was_full;
}

static bool service_rx(struct host_ring_dev *d)
{
	struct host_ring *hr = &d->rx;
	uint32_t n = pending(d, hr), done = 0;

	while (done < n) {
		struct ingot_net_slot *slot =
		    &hr->ring->slot[hr->used & (hr->size - 1)];
		struct ingot_net_slot s = *slot;
		if (s.len < INGOT_NET_FRAME_MAX)
			violation(d, "network receive buffer "
				     "smaller than a frame");
		void *buf = d->guest_ptr(s.addr, s.len, true);
		if (!buf)
			violation(d, "network receive buffer "
				     "outside guest-writable "
				     "memory");
		int rc = d->ops->recv(d->ctx, buf, s.len);
		if (rc == -EMSGSIZE) {
			d->count.dropped_in_too_big++;
			continue;
		}
		if (rc < 0) {
			if (rc != -EAGAIN)
				d->count.errors_in++;
			break;
		}
		slot->len = (uint32_t)rc;
		d->count.frames_in++;
		d->count.bytes_in += (uint32_t)rc;
		hr->used++;
		done++;
	}
	if (done)
		complete(hr);
	return done != 0;
}

bool host_ring_service(struct host_ring_dev *d)
{
	if (!d->attached)
		return false;
	bool tx = service_tx(d);
	bool rx = service_rx(d);
	return tx || rx;
}

short host_ring_poll_events(const struct host_ring_dev *d)
{
	if (!d->attached)
		return 0;
	bool rx_room =
	    __atomic_load_n(&d->rx.ring->avail, __ATOMIC_ACQUIRE) != d->rx.used;
	return (short)((rx_room ? POLLIN : 0) | (d->tx_blocked ? POLLOUT : 0));
}
