/*
 * The platform under the network stack in the fuzz harnesses, faked in one
 * process: the ABI calls and the scheduler calls the stack makes, a clock
 * the harness moves by hand, and the host's side of the rings.  A test
 * double, so that the harnesses drive lib/net exactly as a guest would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/net/net_internal.h"
#include "fake_host.h"

/* --- the ABI ------------------------------------------------------------- */

/* The offloads the host offers (FAKE_TSO: checksums and TSO). */
#ifdef FAKE_TSO
#define FAKE_OFFLOADS (INGOT_NET_F_CSUM | INGOT_NET_F_TSO4)
#else
#define FAKE_OFFLOADS 0
#endif

/* One interface, "service"; with FAKE_FORWARDER two, "wan" and "lan" (the
 * second with a smaller MTU, so that forwarding cuts fragments). */
static struct ingot_boot_info fake_boot = {
    .heap_size = 64 << 20,
    .random_seed = 1,
#ifdef FAKE_FORWARDER
    .ndevices = 2,
    .devices = {{.name = "wan",
		 .type = INGOT_DEVICE_NET,
		 .handle = 0,
		 .attached = true,
		 .u.net = {{0x02, 0, 0, 0, 0, 0x02}, 1500}},
		{.name = "lan",
		 .type = INGOT_DEVICE_NET,
		 .handle = 1,
		 .attached = true,
		 .u.net = {{0x02, 0, 0, 0, 1, 0x02}, 1280}}},
#else
    .ndevices = 1,
    .devices = {{.name = "service",
		 .type = INGOT_DEVICE_NET,
		 .handle = 0,
		 .attached = true,
		 .u.net = {{0x02, 0, 0, 0, 0, 0x02}, 1500, FAKE_OFFLOADS}}},
#endif
};
static struct ingot_net_ring *fake_tx[INGOT_DEVICES_MAX],
    *fake_rx[INGOT_DEVICES_MAX];

const struct ingot_boot_info *ingot_boot_info(void)
{
	return &fake_boot;
}

int ingot_net_attach(uint32_t handle, struct ingot_net_ring *tx,
		     struct ingot_net_ring *rx)
{
	fake_tx[handle] = tx;
	fake_rx[handle] = rx;
	return 0;
}

/* --- the scheduler ------------------------------------------------------- */

#define TIMERS 64
static struct sched_timer *fake_timers[TIMERS];
struct sched_poller *fake_poller;
uint64_t fake_now = 1000000000ULL;

uint64_t sched_now(void)
{
	return fake_now;
}

void sched_timer_init(struct sched_timer *t, void (*fn)(struct sched_timer *),
		      void *arg)
{
	*t = (struct sched_timer){.fn = fn, .arg = arg};
}

int sched_timer_arm(struct sched_timer *t, uint64_t deadline)
{
	t->deadline = deadline;
	if (t->slot)
		return 0;
	for (unsigned i = 0; i < TIMERS; i++)
		if (!fake_timers[i]) {
			fake_timers[i] = t;
			t->slot = i + 1;
			return 0;
		}
	abort(); /* the stack arms a handful: more is a bug */
}

void sched_timer_cancel(struct sched_timer *t)
{
	if (t->slot)
		fake_timers[t->slot - 1] = NULL;
	t->slot = 0;
}

bool sched_timer_armed(const struct sched_timer *t)
{
	return t->slot != 0;
}

void fake_fire_timers(void)
{
	for (unsigned i = 0; i < TIMERS; i++) {
		struct sched_timer *t = fake_timers[i];
		if (t && t->deadline <= fake_now) {
			sched_timer_cancel(t);
			t->fn(t);
		}
	}
}

int sched_wait(struct sched_waitq *q, uint64_t deadline)
{
	(void)q;
	(void)deadline;
	return -ETIMEDOUT; /* only ever asked with nothing to wait for */
}

unsigned sched_wake_one(struct sched_waitq *q)
{
	(void)q;
	return 0;
}
unsigned sched_wake_all(struct sched_waitq *q)
{
	(void)q;
	return 0;
}

int sched_spawn(void (*fn)(void *), void *arg, const char *name)
{
	(void)fn, (void)arg, (void)name;
	return 1;
}

int sched_poller_add(struct sched_poller *p)
{
	fake_poller = p;
	return 0;
}

int sched_on_report(void (*fn)(void))
{
	(void)fn;
	return 0;
}

/* What a host does with the rings: sends (drops) every TX frame, each
 * checked as a host checks it (abi.h; a bad one would stop the guest). */
void fake_host_drains_tx(void)
{
	for (unsigned d = 0; d < fake_boot.ndevices; d++) {
		struct ingot_net_ring *r = fake_tx[d];
		uint32_t total = 0, max = INGOT_NET_FRAME_MAX;
		unsigned pieces = 0;
		for (uint32_t i = r->used; i != r->avail; i++) {
			const struct ingot_net_slot *s =
			    &r->slot[i & (r->size - 1)];
			if (!pieces && (s->flags & INGOT_NET_SLOT_TSO4))
				max = INGOT_NET_GSO_FRAME_MAX;
			total += s->len;
			if (!s->len || total > max ||
			    ++pieces > INGOT_NET_CHAIN_MAX)
				abort();
			volatile const uint8_t *f =
			    (const uint8_t *)(uintptr_t)s->addr;
			(void)f[0], (void)f[s->len - 1];
			if (!(s->flags & INGOT_NET_SLOT_MORE)) {
				if (total < 14)
					abort();
				total = pieces = 0;
				max = INGOT_NET_FRAME_MAX;
			}
		}
		if (pieces)
			abort(); /* a frame left unfinished */
		r->used = r->avail;
	}
}

void fake_deliver_on(unsigned dev, const uint8_t *frame, size_t len,
		     uint16_t csum_start, uint16_t csum_offset)
{
	struct ingot_net_ring *r = fake_rx[dev];
	if (r->used == r->avail)
		return; /* no buffer posted: the host would wait */
	struct ingot_net_slot *s = &r->slot[r->used & (r->size - 1)];
	if (len > s->len)
		len = s->len;
	memcpy((void *)(uintptr_t)s->addr, frame, len);
	s->len = (uint32_t)len;
	s->flags = 0;
	/* A host's partial checksum lies inside its frame (abi.h). */
	if (csum_start && (size_t)csum_start + csum_offset + 2 <= len) {
		s->flags = INGOT_NET_SLOT_CSUM_OK;
		s->csum_start = csum_start;
		s->csum_offset = csum_offset;
	}
	r->used++;
}

void fake_deliver(const uint8_t *frame, size_t len)
{
	fake_deliver_on(0, frame, len, 0, 0);
}

/* Buffers the host holds, posted for frames to come. */
unsigned fake_rx_posted(void)
{
	unsigned n = 0;
	for (unsigned d = 0; d < fake_boot.ndevices; d++)
		n += fake_rx[d]->avail - fake_rx[d]->used;
	return n;
}
