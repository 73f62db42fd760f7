/*
 * IPv4 reassembly (RFC 791, RFC 815).  CONFIG_NET_REASS_SLOTS datagrams at
 * once, each in a 64 KiB buffer of its own reserved at start of day, so
 * fragment memory is bounded whatever arrives.  A datagram is dropped when
 * its fragments overlap (RFC 5722's rule, here for IPv4 too: overlaps are
 * an attack, not a retransmission), when it would exceed 65,535 bytes, or
 * when it is not complete within CONFIG_NET_REASS_TIMEOUT_MS; when every
 * slot is busy the oldest datagram gives way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define REASS_MAX 65535
#define UNITS     (REASS_MAX / 8 + 1)

struct reass {
	bool busy;      /* collecting fragments */
	bool delivered; /* the whole datagram is out, in a packet */
	struct netif *ifp;
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	uint32_t total; /* payload length, known once the last fragment came */
	uint32_t have;  /* payload bytes received */
	uint32_t end;   /* the furthest payload byte received, plus one */
	uint64_t started;
	uint8_t *buf;                /* IP header, then the payload */
	uint8_t seen[UNITS / 8 + 1]; /* one bit per 8 payload bytes */
};

static struct reass *slots;
static struct sched_timer timer;

static void expire(struct sched_timer *t);

int ipv4_reass_init(void)
{
	slots = calloc(CONFIG_NET_REASS_SLOTS, sizeof *slots);
	if (!slots)
		return -ENOMEM;
	for (unsigned i = 0; i < CONFIG_NET_REASS_SLOTS; i++) {
		slots[i].buf = malloc(IP_HLEN + REASS_MAX);
		if (!slots[i].buf)
			return -ENOMEM;
	}
	sched_timer_init(&timer, expire, NULL);
	return 0;
}

void ipv4_reass_release(uint32_t slot)
{
	slots[slot].delivered = false;
}

static void discard(struct reass *r)
{
	r->busy = false;
}

static void expire(struct sched_timer *t)
{
	uint64_t now = sched_now(), next = UINT64_MAX;
	const uint64_t limit = CONFIG_NET_REASS_TIMEOUT_MS * 1000000ULL;
	for (unsigned i = 0; i < CONFIG_NET_REASS_SLOTS; i++) {
		struct reass *r = &slots[i];
		if (!r->busy)
			continue;
		if (now - r->started >= limit) {
			r->ifp->count.ip_frag_drop_timeout++;
			discard(r);
		} else if (r->started + limit < next) {
			next = r->started + limit;
		}
	}
	if (next != UINT64_MAX)
		sched_timer_arm(t, next);
}

static struct reass *find_slot(struct netif *ifp, uint32_t src, uint32_t dst,
			       uint16_t id, uint8_t proto)
{
	struct reass *free_slot = NULL, *oldest = NULL;
	for (unsigned i = 0; i < CONFIG_NET_REASS_SLOTS; i++) {
		struct reass *r = &slots[i];
		if (r->busy && r->src == src && r->dst == dst && r->id == id &&
		    r->proto == proto && r->ifp == ifp)
			return r;
		if (!r->busy && !r->delivered && !free_slot)
			free_slot = r;
		if (r->busy && (!oldest || r->started < oldest->started))
			oldest = r;
	}
	if (!free_slot) {
		if (!oldest)
			return NULL; /* every slot is out with the application
				      */
		oldest->ifp->count.ip_frag_drop_evicted++;
		discard(oldest);
		free_slot = oldest;
	}
	struct reass *r = free_slot;
	r->busy = true;
	r->ifp = ifp;
	r->src = src;
	r->dst = dst;
	r->id = id;
	r->proto = proto;
	r->total = 0;
	r->have = 0;
	r->end = 0;
	r->started = sched_now();
	memset(r->seen, 0, sizeof r->seen);
	if (!sched_timer_armed(&timer))
		sched_timer_arm(&timer,
				r->started +
				    CONFIG_NET_REASS_TIMEOUT_MS * 1000000ULL);
	return r;
}

/* Marks [first, last) units seen; false if any was seen already. */
static bool mark(struct reass *r, uint32_t first, uint32_t last)
{
	for (uint32_t u = first; u < last; u++)
		if (r->seen[u / 8] & (1u << (u % 8)))
			return false;
	for (uint32_t u = first; u < last; u++)
		r->seen[u / 8] |= 1u << (u % 8);
	return true;
}

struct pkt *ipv4_reass_input(struct netif *ifp, struct pkt *p)
{
	const struct pkt_meta *m = pkt_meta(p);
	const uint8_t *h = p->data;
	unsigned hlen = (h[0] & 0xf) * 4;
	uint16_t frag = get16(h + 6);
	uint32_t off = (uint32_t)(frag & 0x1fff) * 8, len = p->len - hlen;
	bool more = frag & 0x2000;

	struct reass *r =
	    find_slot(ifp, m->src_ip, m->dst_ip, get16(h + 4), h[9]);
	if (!r) {
		ifp->count.drop_no_buffer++;
		pkt_free(p);
		return NULL;
	}
	if ((more && len % 8) || off + len > REASS_MAX - IP_HLEN ||
	    (r->total && (off + len > r->total || !more)) ||
	    (!more && r->end > off + len)) {
		ifp->count.ip_frag_drop_invalid++;
		discard(r);
		pkt_free(p);
		return NULL;
	}
	if (!mark(r, off / 8, (off + len + 7) / 8)) {
		ifp->count.ip_frag_drop_overlap++;
		discard(r);
		pkt_free(p);
		return NULL;
	}
	if (!more)
		r->total = off + len;
	if (off + len > r->end)
		r->end = off + len;
	if (off == 0)
		memcpy(r->buf, h, IP_HLEN); /* options are not kept */
	memcpy(r->buf + IP_HLEN + off, h + hlen, len);
	r->have += len;
	pkt_free(p);
	if (!r->total || r->have != r->total)
		return NULL;

	/* Complete: hand it on in a packet whose data is the slot. */
	struct pkt *whole = pkt_alloc();
	r->busy = false;
	if (!whole) {
		ifp->count.drop_no_buffer++;
		return NULL;
	}
	ifp->count.ip_reassembled++;
	r->delivered = true;
	r->buf[0] = 0x45;
	put16(r->buf + 2, (uint16_t)(IP_HLEN + r->total));
	put16(r->buf + 6, 0);
	struct pkt_meta *w = pkt_meta(whole);
	w->reassembled = true;
	w->reass_slot = (uint32_t)(r - slots);
	w->ifp = ifp;
	w->src_ip = r->src;
	w->dst_ip = r->dst;
	whole->data = r->buf;
	whole->len = IP_HLEN + r->total;
	return whole;
}
