/* The packet pool: CONFIG_NET_PKTS buffers reserved at start of day, handed
 * out and back with no allocation on the fast path. */
#include <errno.h>
#include <stdlib.h>

#include "net_internal.h"

static struct pkt *free_list;
static struct pkt *pkts;

int pkt_pool_init(unsigned n)
{
	uint8_t *bufs = aligned_alloc(64, (size_t)n * NET_PKT_SIZE);
	pkts = calloc(n, sizeof *pkts);
	if (!bufs || !pkts)
		return -ENOMEM;
	for (int i = (int)n - 1; i >= 0; i--) {
		pkts[i].buf = bufs + (size_t)i * NET_PKT_SIZE;
		pkts[i].cap = NET_PKT_SIZE;
		pkts[i].next = free_list;
		free_list = &pkts[i];
	}
	return 0;
}

struct pkt *pkt_alloc(void)
{
	struct pkt *p = free_list;
	if (!p)
		return NULL;
	free_list = p->next;
	p->next = NULL;
	p->flags = 0;
	p->ifp = NULL;
	pkt_reserve(p, NET_PKT_HEADROOM);
	return p;
}

void pkt_free(struct pkt *p)
{
	if (!p)
		return;
	if (p->flags & PKT_REASSEMBLED)
		ipv4_reass_release(p->reass_slot);
	p->flags = 0;
	p->next = free_list;
	free_list = p;
}

void pkt_reserve(struct pkt *p, uint32_t headroom)
{
	p->data = p->buf + headroom;
	p->len = 0;
}

uint8_t *pkt_push(struct pkt *p, uint32_t n)
{
	p->data -= n;
	p->len += n;
	return p->data;
}

void pkt_pull(struct pkt *p, uint32_t n)
{
	p->data += n;
	p->len -= n;
}

uint32_t pkt_headroom(const struct pkt *p)
{
	return p->flags & PKT_REASSEMBLED ? 0 : (uint32_t)(p->data - p->buf);
}

size_t pkt_tailroom(const struct pkt *p)
{
	return p->flags & PKT_REASSEMBLED ? 0
					  : (size_t)(p->buf + p->cap - p->data);
}
