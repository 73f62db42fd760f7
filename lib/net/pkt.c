/* The packet pool: CONFIG_NET_PKTS buffers reserved at start of day, handed
 * out and back with no allocation on the fast path. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "net_internal.h"

static struct pkt *free_list;
static struct pkt_meta *pool;
static unsigned pool_size, in_use;
static struct sched_waitq waiters; /* pkt_pool_wait, first come first served */
static unsigned wait_above;

int pkt_pool_init(unsigned n)
{
	uint8_t *bufs = aligned_alloc(64, (size_t)n * NET_PKT_SIZE);
	pool = calloc(n, sizeof *pool);
	if (!bufs || !pool)
		return -ENOMEM;
	pool_size = n;
	for (int i = (int)n - 1; i >= 0; i--) {
		struct pkt_meta *m = &pool[i];
		m->buf = bufs + (size_t)i * NET_PKT_SIZE;
		m->cap = NET_PKT_SIZE;
		m->free = true;
		m->next = free_list;
		free_list = &m->pkt;
	}
	return 0;
}

static const struct pkt_meta *cmeta(const struct pkt *p)
{
	return (const struct pkt_meta *)p;
}

static bool from_pool(const struct pkt *p)
{
	uintptr_t a = (uintptr_t)p, base = (uintptr_t)pool;
	return a >= base && a - base < pool_size * sizeof *pool &&
	       (a - base) % sizeof *pool == 0;
}

struct pkt *pkt_alloc(void)
{
	struct pkt *p = free_list;
	if (!p)
		return NULL;
	struct pkt_meta *m = pkt_meta(p);
	assert(m->free);
	free_list = m->next;
	m->next = NULL;
	m->free = false;
	m->ifp = NULL;
	m->refs = 0;
	m->frag = NULL;
	m->tcp_ext = NULL;
	m->tx_ext = NULL;
	m->tx_ext_len = 0;
	m->tx_flags = 0;
	m->tx_keep = false;
	m->csum_ok = false;
	m->link_broadcast = false;
	m->csum_start = 0;
	m->rx_gso_size = 0;
	in_use++;
	pkt_reserve(p, NET_PKT_HEADROOM);
	return p;
}

/* Drops one reference to the packet p, whose meta is m; frees it at the
 * last. */
static void unref(struct pkt *p, struct pkt_meta *m)
{
	/* A packet on the free list twice would later go to two owners at
	 * once; one that is not the pool's would take its meta from
	 * whatever memory follows it. */
	assert(from_pool(p));
	assert(!m->free);
	if (m->refs) {
		m->refs--;
		return;
	}
	if (m->reassembled)
		ipv4_reass_release(m->reass_slot);
	m->reassembled = false;
	m->free = true;
	m->next = free_list;
	free_list = p;
	in_use--;
	if (wait_above && pool_size - in_use > wait_above)
		sched_wake_one(&waiters);
}

int pkt_pool_wait(unsigned above, uint64_t deadline_ns)
{
	wait_above = above;
	int rc = sched_wait(&waiters, deadline_ns);
	/* Pass the turn on: one packet freed may be followed by many. */
	if (pool_size - in_use > above)
		sched_wake_one(&waiters);
	return rc;
}

void pkt_free(struct pkt *p)
{
	while (p) {
		struct pkt_meta *m = pkt_meta(p);
		struct pkt *next = m->frag;
		/* The frame's links and offloads end with it; a lent piece
		 * (a queued TCP segment) stays its other owner's. */
		m->frag = NULL;
		m->tx_ext = NULL;
		m->tx_ext_len = 0;
		m->tx_flags = 0;
		m->tx_keep = false;
		unref(p, m);
		p = next;
	}
}

uint32_t pkt_frame_len(struct pkt *p)
{
	uint32_t n = 0;
	for (; p; p = pkt_meta(p)->frag)
		n += p->len + pkt_meta(p)->tx_ext_len;
	return n;
}

void pkt_chain_pull(struct pkt *p, uint32_t n)
{
	uint32_t k = n < p->len ? n : p->len;
	pkt_pull(p, k);
	n -= k;
	struct pkt_meta *m = pkt_meta(p);
	while (n) {
		struct pkt *q = m->frag;
		if (n < q->len) {
			pkt_pull(q, n);
			return;
		}
		n -= q->len;
		m->frag = pkt_meta(q)->frag;
		pkt_meta(q)->frag = NULL;
		pkt_free(q);
	}
}

void pkt_chain_trim(struct pkt *p, uint32_t len)
{
	for (; p; p = pkt_meta(p)->frag) {
		if (p->len >= len) {
			p->len = len;
			pkt_free(pkt_meta(p)->frag);
			pkt_meta(p)->frag = NULL;
			return;
		}
		len -= p->len;
	}
}

unsigned pkt_pool_in_use(void)
{
	return in_use;
}

unsigned pkt_pool_free(void)
{
	return pool_size - in_use;
}

void pkt_ref(struct pkt *p)
{
	struct pkt_meta *m = pkt_meta(p);
	assert(from_pool(p) && !m->free && m->refs < UINT16_MAX);
	m->refs++;
}

void pkt_reserve(struct pkt *p, uint32_t headroom)
{
	struct pkt_meta *m = pkt_meta(p);
	assert(headroom <= m->cap);
	p->data = m->buf + headroom;
	p->len = 0;
}

uint8_t *pkt_push(struct pkt *p, uint32_t n)
{
	assert(n <= pkt_headroom(p));
	p->data -= n;
	p->len += n;
	return p->data;
}

void pkt_pull(struct pkt *p, uint32_t n)
{
	assert(n <= p->len);
	p->data += n;
	p->len -= n;
}

uint32_t pkt_headroom(const struct pkt *p)
{
	const struct pkt_meta *m = cmeta(p);
	return m->reassembled ? 0 : (uint32_t)(p->data - m->buf);
}

size_t pkt_tailroom(const struct pkt *p)
{
	const struct pkt_meta *m = cmeta(p);
	return m->reassembled ? 0 : (size_t)(m->buf + m->cap - p->data);
}
