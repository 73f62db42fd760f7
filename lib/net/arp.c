/*
 * ARP (RFC 826) for IPv4 over Ethernet: a cache with expiry, a short queue
 * of packets per address being resolved, replies for our own addresses and
 * a gratuitous announcement when an address is configured.  An address in
 * use when it grows stale goes on being used while it is asked again (as
 * Linux's neighbour states STALE, PROBE): a busy flow is never held up,
 * and only a neighbour that stops answering is forgotten.
 *
 * Against spoofing floods the cache is stricter than RFC 826's merge rule:
 * a packet creates an entry only when it is a request for our own address
 * (its sender will talk to us), completes an entry being resolved, and
 * changes the address of a resolved entry only by such a request: an
 * unsolicited reply cannot redirect traffic we already send somewhere.
 */
#include <string.h>

#include "net_internal.h"

#define ARP_REQUEST      1
#define ARP_REPLY        2
#define ARP_LEN          28
#define ARP_QUEUE_MAX    16 /* a fragmented datagram's worth */
#define ARP_REACHABLE_NS (60ULL * 1000000000)
#define ARP_RETRY_NS     (1000ULL * 1000000)
#define ARP_TRIES        3

struct arp_entry {
	struct netif *ifp;
	uint32_t ip; /* 0: free */
	uint8_t mac[6];
	bool resolved;
	bool used;    /* resolved: sent to since it was last confirmed */
	bool probing; /* resolved, stale and in use: being asked again */
	uint8_t tries;
	uint64_t expires; /* resolved: stale (probing: next retry); else: next
			     retry */
	struct pkt_queue queue; /* waiting for the address */
};

static struct arp_entry cache[CONFIG_NET_ARP_ENTRIES];
/* Armed for the earliest retry or expiry, and only then: an idle guest
 * with nothing to resolve is not woken. */
static struct sched_timer timer;

static void timer_due(uint64_t when)
{
	if (!sched_timer_armed(&timer) || timer.deadline > when)
		sched_timer_arm(&timer, when);
}

static void send_arp(struct netif *ifp, uint16_t op, const uint8_t *tha,
		     uint32_t tpa, const uint8_t *eth_dst)
{
	struct pkt *p = pkt_alloc();
	if (!p) {
		ifp->count.drop_no_buffer++;
		return;
	}
	uint8_t *a = pkt_push(p, ARP_LEN);
	put16(a, 1); /* hardware: Ethernet */
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, ifp->mac, 6);
	put32(a + 14, ifp->ip);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	ifp->count.arp_out++;
	eth_output(ifp, p, eth_dst, ETH_P_ARP);
}

static const uint8_t zero_mac[6];

static struct arp_entry *lookup(struct netif *ifp, uint32_t ip)
{
	for (unsigned i = 0; i < CONFIG_NET_ARP_ENTRIES; i++)
		if (cache[i].ip == ip && cache[i].ifp == ifp)
			return &cache[i];
	return NULL;
}

/* Drops what waited for e's address; when the address did not answer, a
 * forwarded packet's sender hears so (host unreachable, RFC 1812 4.3.3.1):
 * one that came in (ifp) from another host (a reply turned around in place
 * came in too, from us). */
static void drop_queue(struct arp_entry *e, bool unanswered)
{
	struct pkt *p;
	while ((p = pkt_queue_pop(&e->queue))) {
		e->ifp->count.arp_unresolved++;
		if (unanswered && pkt_meta(p)->ifp &&
		    !ipv4_is_local(get32(p->data + 12)))
			icmp_error(p->data, p->len, 3, 1, 0, 0);
		pkt_free(p);
	}
}

/* A free entry, or the one expiring first (resolved ones before those
 * being resolved). */
static struct arp_entry *new_entry(struct netif *ifp, uint32_t ip)
{
	struct arp_entry *victim = NULL;
	for (unsigned i = 0; i < CONFIG_NET_ARP_ENTRIES; i++) {
		struct arp_entry *e = &cache[i];
		if (!e->ip) {
			victim = e;
			break;
		}
		if (!victim || (e->resolved && !victim->resolved) ||
		    (e->resolved == victim->resolved &&
		     e->expires < victim->expires))
			victim = e;
	}
	drop_queue(victim, false);
	*victim = (struct arp_entry){.ifp = ifp, .ip = ip};
	return victim;
}

static void resolved(struct arp_entry *e, const uint8_t *mac)
{
	memcpy(e->mac, mac, 6);
	e->resolved = true;
	e->used = e->probing = false;
	e->tries = 0;
	e->expires = sched_now() + ARP_REACHABLE_NS;
	timer_due(e->expires);
	struct pkt *p;
	while ((p = pkt_queue_pop(&e->queue)))
		eth_output(e->ifp, p, e->mac, ETH_P_IP);
}

void arp_input(struct netif *ifp, struct pkt *p)
{
	ifp->count.arp_in++;
	const uint8_t *a = p->data;
	if (p->len < ARP_LEN || get16(a) != 1 || get16(a + 2) != ETH_P_IP ||
	    a[4] != 6 || a[5] != 4 || (a[8] & 1)) {
		ifp->count.arp_drop_malformed++;
		pkt_free(p);
		return;
	}
	uint16_t op = get16(a + 6);
	uint32_t spa = get32(a + 14), tpa = get32(a + 24);
	uint8_t sha[6];
	memcpy(sha, a + 8, 6);
	bool for_us = ifp->ip && tpa == ifp->ip;

	if (spa && spa != ifp->ip) {
		struct arp_entry *e = lookup(ifp, spa);
		bool asks_us = for_us && op == ARP_REQUEST;
		if (!e && asks_us)
			e = new_entry(ifp, spa);
		if (e && e->resolved && memcmp(e->mac, sha, 6) != 0 && !asks_us)
			ifp->count.arp_ignored_conflict++;
		else if (e)
			resolved(e, sha);
	}
	if (!for_us)
		ifp->count.arp_drop_not_for_us++;
	else if (op == ARP_REQUEST) {
		ifp->count.arp_replies_sent++;
		send_arp(ifp, ARP_REPLY, sha, spa, sha);
	}
	pkt_free(p);
}

void arp_output(struct netif *ifp, struct pkt *p, uint32_t nh)
{
	if (nh == IP_BROADCAST || (ifp->netmask != 0xffffffff && ifp->ip &&
				   nh == (ifp->ip | ~ifp->netmask))) {
		eth_output(ifp, p, eth_broadcast, ETH_P_IP);
		return;
	}
	struct arp_entry *e = lookup(ifp, nh);
	if (e && e->resolved) {
		e->used = true; /* stale ones too, while they are asked again */
		eth_output(ifp, p, e->mac, ETH_P_IP);
		return;
	}
	if (!e)
		e = new_entry(ifp, nh);
	if (e->queue.len >= ARP_QUEUE_MAX) {
		ifp->count.arp_drop_queue_full++;
		pkt_free(p);
	} else {
		pkt_queue_push(&e->queue, p);
	}
	if (e->tries == 0) {
		e->tries = 1;
		e->expires = sched_now() + ARP_RETRY_NS;
		timer_due(e->expires);
		send_arp(ifp, ARP_REQUEST, zero_mac, nh, eth_broadcast);
	}
}

void arp_announce(struct netif *ifp)
{
	send_arp(ifp, ARP_REQUEST, zero_mac, ifp->ip, eth_broadcast);
}

/* Retries or gives up resolutions, forgets stale entries. */
static void tick(struct sched_timer *t)
{
	uint64_t now = sched_now(), next = UINT64_MAX;
	for (unsigned i = 0; i < CONFIG_NET_ARP_ENTRIES; i++) {
		struct arp_entry *e = &cache[i];
		if (!e->ip)
			continue;
		if (e->expires <= now) {
			if (e->resolved && e->used && !e->probing) {
				/* Stale and in use: asked at the address it
				 * had first (RFC 1122 2.3.2.1's unicast poll),
				 * then by broadcast. */
				e->probing = true;
				e->tries = 1;
				e->expires = now + ARP_RETRY_NS;
				send_arp(e->ifp, ARP_REQUEST, zero_mac, e->ip,
					 e->mac);
			} else if ((e->resolved && !e->probing) ||
				   e->tries >= ARP_TRIES) {
				drop_queue(e, !e->resolved);
				e->ip = 0;
				continue;
			} else {
				e->tries++;
				e->expires = now + ARP_RETRY_NS;
				send_arp(e->ifp, ARP_REQUEST, zero_mac, e->ip,
					 eth_broadcast);
			}
		}
		if (e->expires < next)
			next = e->expires;
	}
	if (next != UINT64_MAX)
		sched_timer_arm(t, next);
}

void arp_timer_start(void)
{
	sched_timer_init(&timer, tick, NULL);
}
