/*
 * Split virtqueues (virtio 1.x, 2.7): the descriptor table and the driver
 * ring are the guest's, the device ring the device's.  Memory comes from
 * the heap before the seal and stays put.
 */
#ifndef PLATFORM_VIRTIO_QUEUE_H
#define PLATFORM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#define VQ_DESC_F_NEXT  1
#define VQ_DESC_F_WRITE 2
#define VQ_SIZE_MAX     1024

struct vq_desc {
	uint64_t addr; /* physical */
	uint32_t len;
	uint16_t flags, next;
};

struct vq_avail {
	uint16_t flags;
	volatile uint16_t idx;
	uint16_t ring[]; /* then used_event */
};

struct vq_used_elem {
	uint32_t id, len;
};

struct vq_used {
	volatile uint16_t flags;
	volatile uint16_t idx;
	struct vq_used_elem ring[]; /* then avail_event */
};

/* One buffer of a chain: guest-virtual address, bytes, device-writable. */
struct vq_buf {
	const void *addr;
	uint32_t len;
	bool write;
};

struct vq {
	uint16_t size, index;      /* entries, a power of two; queue number */
	volatile uint16_t *notify; /* PCI: where its notifications go */
	bool event_idx;            /* VIRTIO_F_EVENT_IDX negotiated */
	struct vq_desc *desc;
	struct vq_avail *avail;
	struct vq_used *used;
	volatile uint16_t *used_event;  /* after the driver ring: ours */
	volatile uint16_t *avail_event; /* after the device ring: its */
	uint16_t next_avail;            /* the avail index not yet published */
	uint16_t kicked;    /* the avail index at the last kick decision */
	uint16_t next_used; /* the next used entry to read */
	uint16_t free_head, nfree;
	/* Our own copies: the device never changes what we act on. */
	uint16_t *next;  /* chain links */
	uint16_t *chain; /* descriptors in the chain at a head, 0: free */
};

int vq_init(struct vq *q, uint16_t index, uint16_t size, bool event_idx);

/* Adds a chain of n buffers; returns its head, or -1 with too few free
 * descriptors.  The device sees it at vq_publish. */
int vq_add(struct vq *q, const struct vq_buf *bufs, unsigned n);
void vq_publish(struct vq *q);

/* Whether the device asked to be told of what was published since the
 * last call (event index, or its NO_NOTIFY flag). */
bool vq_kick_needed(struct vq *q);

/* Used entries waiting (0 if none); the n-th (from 0) without taking it. */
uint16_t vq_used_pending(const struct vq *q);
struct vq_used_elem vq_used_peek(const struct vq *q, uint16_t n);

/* Takes the next used entry, whose head was checked by the caller with
 * vq_head_in_flight, and frees its chain. */
void vq_used_take(struct vq *q, uint16_t head);
bool vq_head_in_flight(const struct vq *q, uint32_t id);

/* Asks for an interrupt at the next used entry; returns whether one is
 * pending already (then none may come).  Left armed, the event index goes
 * stale as entries pass it, so a busy guest takes no interrupts. */
bool vq_arm(struct vq *q);
/* Without an event index, interrupts are turned off again after a wait. */
void vq_disarm(struct vq *q);

#endif
