/* Split virtqueues: see virtio_queue.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio.h"
#include "virtio_queue.h"

#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY     1

static void *zalloc(size_t align, size_t bytes)
{
	bytes = (bytes + align - 1) & ~(align - 1);
	void *p = aligned_alloc(align, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

int vq_init(struct vq *q, uint16_t index, uint16_t size, bool event_idx)
{
	*q = (struct vq){.size = size, .index = index, .event_idx = event_idx};
	q->desc = zalloc(64, sizeof *q->desc * size);
	q->avail = zalloc(64, sizeof *q->avail + 2u * size + 2);
	q->used = zalloc(64, sizeof *q->used +
				 sizeof(struct vq_used_elem) * size + 2);
	q->next = zalloc(64, 2u * size);
	q->chain = zalloc(64, 2u * size);
	if (!q->desc || !q->avail || !q->used || !q->next || !q->chain)
		return -ENOMEM;
	q->used_event =
	    (volatile uint16_t *)(void *)((uint8_t *)q->avail + 4 + 2u * size);
	q->avail_event =
	    (volatile uint16_t *)(void *)((uint8_t *)q->used + 4 + 8u * size);
	for (uint16_t i = 0; i < size; i++)
		q->next[i] = (uint16_t)(i + 1);
	q->nfree = size;
	/* Without an event index, interrupts are off until vq_arm. */
	if (!event_idx)
		q->avail->flags = AVAIL_F_NO_INTERRUPT;
	return 0;
}

int vq_add(struct vq *q, const struct vq_buf *bufs, unsigned n)
{
	if (!n || n > q->nfree)
		return -1;
	uint16_t head = q->free_head, d = head;
	for (unsigned i = 0; i < n; i++) {
		q->desc[d] = (struct vq_desc){
		    .addr = virt_to_phys(bufs[i].addr),
		    .len = bufs[i].len,
		    .flags = (uint16_t)((bufs[i].write ? VQ_DESC_F_WRITE : 0) |
					(i + 1 < n ? VQ_DESC_F_NEXT : 0)),
		    .next = q->next[d],
		};
		if (i + 1 < n)
			d = q->next[d];
	}
	q->free_head = q->next[d];
	q->nfree = (uint16_t)(q->nfree - n);
	q->chain[head] = (uint16_t)n;
	q->avail->ring[q->next_avail++ & (q->size - 1)] = head;
	return head;
}

void vq_publish(struct vq *q)
{
	__atomic_store_n(&q->avail->idx, q->next_avail, __ATOMIC_RELEASE);
}

bool vq_kick_needed(struct vq *q)
{
	uint16_t old = q->kicked, now = q->next_avail;
	q->kicked = now;
	if (old == now)
		return false;
	/* The device's word is read after our index is visible. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(q->used->flags & USED_F_NO_NOTIFY);
	uint16_t event = *q->avail_event;
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

uint16_t vq_used_pending(const struct vq *q)
{
	uint16_t idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	return (uint16_t)(idx - q->next_used);
}

struct vq_used_elem vq_used_peek(const struct vq *q, uint16_t n)
{
	const volatile struct vq_used_elem *e =
	    &q->used->ring[(uint16_t)(q->next_used + n) & (q->size - 1)];
	return (struct vq_used_elem){e->id, e->len};
}

bool vq_head_in_flight(const struct vq *q, uint32_t id)
{
	return id < q->size && q->chain[id];
}

void vq_used_take(struct vq *q, uint16_t head)
{
	uint16_t d = head;
	for (unsigned i = 1; i < q->chain[head]; i++)
		d = q->next[d];
	q->next[d] = q->free_head;
	q->free_head = head;
	q->nfree = (uint16_t)(q->nfree + q->chain[head]);
	q->chain[head] = 0;
	q->next_used++;
}

bool vq_arm(struct vq *q)
{
	if (q->event_idx)
		*q->used_event = q->next_used;
	else
		q->avail->flags = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq_used_pending(q) != 0;
}

void vq_disarm(struct vq *q)
{
	if (!q->event_idx)
		q->avail->flags = AVAIL_F_NO_INTERRUPT;
}
