/*
 * Source NAT (masquerade, RFC 3022's NAPT) for a forwarder: TCP, UDP and
 * ICMP echo leaving by the masquerade interface take its address and a
 * port (an echo its identifier) of their own; replies to that port are
 * given back to the inside host before routing, and ICMP errors about a
 * translated datagram are translated both ways, the datagram they quote
 * included (so that path MTU discovery and traceroute work through it).
 * Connections from outside that are forwarded in untranslated (the router
 * has routes for them) are noted, so that their replies leave untranslated.
 *
 * A mapping is per connection (address- and port-dependent, as Linux's
 * masquerade): the inside port is kept when it is free, else a random one
 * from 32768-60999 is taken.  Idle timeouts as RFC 5382 and RFC 4787 ask:
 * TCP established 2 h 4 min, TCP opening or closing 4 min, UDP 5 min, ICMP
 * 60 s.  The table holds CONFIG_NET_NAT_ENTRIES mappings; when it is full a
 * new connection is refused (counted: nat_drop_table_full) and every
 * existing one goes on.  Other protocols are not translated: dropped,
 * counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define PORT_LO         32768
#define PORT_HI         60999
#define SEC             1000000000ULL
#define TCP_EST_NS      (7440 * SEC)
#define TCP_TRANS_NS    (240 * SEC)
#define UDP_NS          (300 * SEC)
#define ICMP_NS         (60 * SEC)
#define HASH_SIZE       (2 * CONFIG_NET_NAT_ENTRIES)
#define TCP_FIN         0x01
#define TCP_SYN         0x02
#define TCP_RST         0x04
#define TCP_ACK         0x10
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO       8

struct nat_entry {
	uint8_t proto; /* 0: free */
	bool established, closing;
	bool pass; /* a connection from outside: its replies stay as they are */
	uint32_t in_ip, peer_ip;
	uint16_t in_port, peer_port, ext_port;
	uint64_t expires;
	int32_t next_out, next_in; /* hash chains, -1 at the end */
};

static struct netif *masq; /* the masquerade interface, or NULL */
static struct nat_entry *table;
static int32_t *out_hash, *in_hash, free_head;
static uint64_t hash_key, rng;
static struct sched_timer sweeper;

bool nat_active(void)
{
	return masq != NULL;
}

static uint64_t mix(uint64_t x)
{
	x ^= hash_key;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static unsigned out_bucket(uint8_t proto, uint32_t in_ip, uint16_t in_port,
			   uint32_t peer_ip, uint16_t peer_port)
{
	uint64_t h = mix((uint64_t)in_ip << 32 | peer_ip);
	h = mix(h ^
		((uint64_t)proto << 32 | (uint32_t)in_port << 16 | peer_port));
	return (unsigned)(h % HASH_SIZE);
}

static unsigned in_bucket(uint8_t proto, uint16_t ext_port, uint32_t peer_ip,
			  uint16_t peer_port)
{
	uint64_t k =
	    (uint64_t)peer_ip << 32 |
	    ((uint32_t)proto << 24 ^ (uint32_t)ext_port << 8 ^ peer_port);
	return (unsigned)(mix(k) % HASH_SIZE);
}

static void unlink_from(int32_t *head, int32_t e, bool in)
{
	for (int32_t *link = head; *link >= 0;
	     link = in ? &table[*link].next_in : &table[*link].next_out)
		if (*link == e) {
			*link = in ? table[e].next_in : table[e].next_out;
			return;
		}
}

static void release(int32_t e)
{
	struct nat_entry *n = &table[e];
	unlink_from(&out_hash[out_bucket(n->proto, n->in_ip, n->in_port,
					 n->peer_ip, n->peer_port)],
		    e, false);
	unlink_from(&in_hash[in_bucket(n->proto, n->ext_port, n->peer_ip,
				       n->peer_port)],
		    e, true);
	n->proto = 0;
	n->next_out = free_head;
	free_head = e;
	masq->count.nat_expired++;
}

/* Once a second: mappings idle past their timeout go. */
static void sweep(struct sched_timer *t)
{
	uint64_t now = sched_now();
	for (int32_t e = 0; e < CONFIG_NET_NAT_ENTRIES; e++)
		if (table[e].proto && table[e].expires <= now)
			release(e);
	sched_timer_arm(t, now + SEC);
}

static int32_t find_out(uint8_t proto, uint32_t in_ip, uint16_t in_port,
			uint32_t peer_ip, uint16_t peer_port)
{
	int32_t e =
	    out_hash[out_bucket(proto, in_ip, in_port, peer_ip, peer_port)];
	for (; e >= 0; e = table[e].next_out) {
		const struct nat_entry *n = &table[e];
		if (n->proto == proto && n->in_ip == in_ip &&
		    n->in_port == in_port && n->peer_ip == peer_ip &&
		    n->peer_port == peer_port)
			return e;
	}
	return -1;
}

static int32_t find_in(uint8_t proto, uint16_t ext_port, uint32_t peer_ip,
		       uint16_t peer_port)
{
	int32_t e = in_hash[in_bucket(proto, ext_port, peer_ip, peer_port)];
	for (; e >= 0; e = table[e].next_in) {
		const struct nat_entry *n = &table[e];
		if (n->proto == proto && n->ext_port == ext_port &&
		    n->peer_ip == peer_ip && n->peer_port == peer_port &&
		    !n->pass)
			return e;
	}
	return -1;
}

/* A new mapping: the inside port if that is free towards this peer, else a
 * random free one (pass: none, the connection is not translated); -1 when
 * the table or the ports are exhausted. */
static int32_t create(uint8_t proto, uint32_t in_ip, uint16_t in_port,
		      uint32_t peer_ip, uint16_t peer_port, bool pass)
{
	if (free_head < 0) {
		masq->count.nat_drop_table_full++;
		return -1;
	}
	uint16_t port = in_port;
	if (!pass &&
	    (port < 1024 || find_in(proto, port, peer_ip, peer_port) >= 0)) {
		unsigned n = PORT_HI - PORT_LO + 1, tries = 0;
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		do
			port = (uint16_t)(PORT_LO + (rng + tries) % n);
		while (find_in(proto, port, peer_ip, peer_port) >= 0 &&
		       ++tries < n);
		if (tries == n) {
			masq->count.nat_drop_table_full++;
			return -1;
		}
	}
	int32_t e = free_head;
	struct nat_entry *m = &table[e];
	free_head = m->next_out;
	*m = (struct nat_entry){.proto = proto,
				.in_ip = in_ip,
				.in_port = in_port,
				.peer_ip = peer_ip,
				.peer_port = peer_port,
				.ext_port = port,
				.pass = pass};
	int32_t *o =
	    &out_hash[out_bucket(proto, in_ip, in_port, peer_ip, peer_port)];
	int32_t *i = &in_hash[in_bucket(proto, port, peer_ip, peer_port)];
	m->next_out = *o;
	*o = e;
	m->next_in = *i;
	*i = e;
	masq->count.nat_mappings++;
	return e;
}

/* RFC 1624: the checksum at c after a 16-bit word of what it covers went
 * from old to new. */
static void csum_update16(uint8_t *c, uint16_t old, uint16_t new)
{
	uint32_t s = (uint16_t)~get16(c) + (uint16_t)~old + (uint32_t) new;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	put16(c, (uint16_t)~s);
}

static void csum_update32(uint8_t *c, uint32_t old, uint32_t new)
{
	csum_update16(c, (uint16_t)(old >> 16), (uint16_t)(new >> 16));
	csum_update16(c, (uint16_t)old, (uint16_t) new);
}

/* Where the transport's checksum is in the segment at l4 (NULL: none to
 * keep, as a UDP datagram sent without one), and the port or identifier
 * that NAT rewrites: the source (src) or the destination. */
static uint8_t *l4_csum(uint8_t proto, uint8_t *l4)
{
	if (proto == IPPROTO_TCP)
		return l4 + 16;
	if (proto == IPPROTO_UDP)
		return get16(l4 + 6) ? l4 + 6 : NULL;
	return l4 + 2;
}

/* A partial checksum (abi.h: the pseudo-header's sum, not yet
 * complemented, that the host completes) after an address in the
 * pseudo-header went from old to new. */
static void partial_update32(uint8_t *c, uint32_t old, uint32_t new)
{
	uint32_t s = get16(c) + (uint16_t) ~(old >> 16) + (uint16_t)~old +
		     (new >> 16) + (new & 0xffff);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	put16(c, (uint16_t)s);
}

/* Rewrites the address at a (an IP header's source or destination) and
 * the port at port of the datagram at ip whose transport header is l4.
 * A partial checksum (partial) covers only the pseudo-header yet: the
 * host sums the port where it is. */
static void rewrite(uint8_t *ip, uint8_t *a, uint32_t addr, uint8_t *l4,
		    uint8_t *port, uint16_t value, bool partial)
{
	uint8_t proto = ip[9], *c = l4_csum(proto, l4);
	if (partial) {
		if (proto != IPPROTO_ICMP)
			partial_update32(l4 + (proto == IPPROTO_TCP ? 16 : 6),
					 get32(a), addr);
	} else {
		if (c && proto != IPPROTO_ICMP)
			csum_update32(c, get32(a), addr); /* pseudo-header */
		if (c)
			csum_update16(c, get16(port), value);
		if (c && proto == IPPROTO_UDP && get16(c) == 0)
			put16(c, 0xffff); /* 0 would mean none (RFC 768) */
	}
	csum_update32(ip + 10, get32(a), addr);
	put32(a, addr);
	put16(port, value);
}

static void touch(struct nat_entry *n, uint8_t proto, uint8_t flags,
		  bool inbound)
{
	uint64_t ttl = ICMP_NS;
	if (proto == IPPROTO_UDP) {
		ttl = UDP_NS;
	} else if (proto == IPPROTO_TCP) {
		if (flags & (TCP_FIN | TCP_RST))
			n->closing = true;
		else if (inbound && (flags & TCP_ACK) && !n->closing)
			n->established = true;
		ttl = n->established && !n->closing ? TCP_EST_NS : TCP_TRANS_NS;
	}
	n->expires = sched_now() + ttl;
}

/* The ports of a TCP or UDP header at l4, or an echo's identifier twice. */
static bool ports(uint8_t proto, const uint8_t *l4, uint32_t l4len,
		  uint16_t *src, uint16_t *dst)
{
	if (proto == IPPROTO_ICMP) {
		if (l4len < 8)
			return false;
		*src = *dst = get16(l4 + 4);
		return true;
	}
	if (l4len < (proto == IPPROTO_TCP ? 20u : 8u))
		return false;
	*src = get16(l4);
	*dst = get16(l4 + 2);
	return true;
}

static bool is_error(uint8_t type)
{
	return type == 3 || type == 11 || type == 12;
}

/* An ICMP error from inside about a datagram that came in translated: it
 * leaves translated too, the datagram it quotes as it was sent to us.
 * Errors about anything else leave untranslated (a connection from
 * outside, say). */
static void outbound_error(struct netif *out, uint8_t *ip, uint8_t *icmp,
			   uint32_t len)
{
	uint8_t *q = icmp + 8;
	if (len < 8 + IP_HLEN + 8)
		return;
	unsigned qhlen = (q[0] & 0xf) * 4;
	uint8_t proto = q[9], *ql4 = q + qhlen;
	if (qhlen < IP_HLEN || len < 8 + qhlen + 8 ||
	    (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return;
	/* Quoted as it went from the peer to the inside host. */
	int32_t e = find_out(proto, get32(q + 16), get16(ql4 + 2),
			     get32(q + 12), get16(ql4));
	if (e < 0 || table[e].pass)
		return;
	csum_update32(q + 10, get32(q + 16), out->ip);
	put32(q + 16, out->ip);
	put16(ql4 + 2, table[e].ext_port);
	put16(icmp + 2, 0);
	put16(icmp + 2, net_csum_fold(net_csum_add(0, icmp, len)));
	csum_update32(ip + 10, get32(ip + 12), out->ip);
	put32(ip + 12, out->ip);
	out->count.nat_out++;
}

int nat_outbound(struct netif *out, struct pkt *p)
{
	uint8_t *ip = p->data;
	if (out != masq || get32(ip + 12) == out->ip)
		return 0;
	unsigned hlen = (ip[0] & 0xf) * 4;
	uint8_t proto = ip[9], *l4 = ip + hlen;
	uint16_t sport, dport;
	if (proto == IPPROTO_ICMP && p->len >= hlen + 8 && is_error(l4[0])) {
		outbound_error(out, ip, l4, p->len - hlen);
		return 0;
	}
	bool echo = proto == IPPROTO_ICMP && p->len > hlen &&
		    (l4[0] == ICMP_ECHO || l4[0] == ICMP_ECHO_REPLY);
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP && !echo) ||
	    !ports(proto, l4, p->len - hlen, &sport, &dport)) {
		out->count.nat_drop_unsupported++;
		return -EPROTO;
	}
	if (echo)
		dport = 0;
	uint32_t src = get32(ip + 12), dst = get32(ip + 16);
	int32_t e = find_out(proto, src, sport, dst, dport);
	if (e < 0 && (e = create(proto, src, sport, dst, dport, false)) < 0)
		return -ENOSPC;
	struct nat_entry *n = &table[e];
	touch(n, proto, proto == IPPROTO_TCP ? l4[13] : 0, false);
	if (n->pass)
		return 0;
	rewrite(ip, ip + 12, out->ip, l4, echo ? l4 + 4 : l4, n->ext_port,
		pkt_meta(p)->csum_start != 0);
	out->count.nat_out++;
	return 0;
}

/* An ICMP error from outside quoting a datagram we translated: back to the
 * inside host, quote and all. */
static bool inbound_error(struct netif *ifp, struct pkt *p, uint8_t *icmp,
			  uint32_t len)
{
	uint8_t *q = icmp + 8;
	if (len < 8 + IP_HLEN + 8)
		return false;
	unsigned qhlen = (q[0] & 0xf) * 4;
	uint8_t proto = q[9], *ql4 = q + qhlen;
	if (qhlen < IP_HLEN || len < 8 + qhlen + 8 || get32(q + 12) != ifp->ip)
		return false;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
	    proto != IPPROTO_ICMP)
		return false;
	/* The first 8 bytes quoted: ports, or an echo's identifier. */
	uint16_t sport = get16(proto == IPPROTO_ICMP ? ql4 + 4 : ql4),
		 dport = proto == IPPROTO_ICMP ? 0 : get16(ql4 + 2);
	int32_t e = find_in(proto, sport, get32(q + 16), dport);
	if (e < 0)
		return false;
	struct nat_entry *n = &table[e];
	/* The quote: its source and port (its own checksums are left: a
	 * quote may be cut short, and no one checks them). */
	csum_update32(q + 10, get32(q + 12), n->in_ip);
	put32(q + 12, n->in_ip);
	put16(proto == IPPROTO_ICMP ? ql4 + 4 : ql4, n->in_port);
	put16(icmp + 2, 0);
	put16(icmp + 2, net_csum_fold(net_csum_add(0, icmp, len)));
	uint8_t *ip = p->data;
	csum_update32(ip + 10, get32(ip + 16), n->in_ip);
	put32(ip + 16, n->in_ip);
	ifp->count.nat_in++;
	return true;
}

bool nat_inbound(struct netif *ifp, struct pkt *p)
{
	uint8_t *ip = p->data;
	if (ifp != masq || get32(ip + 16) != ifp->ip)
		return false;
	unsigned hlen = (ip[0] & 0xf) * 4;
	uint8_t proto = ip[9], *l4 = ip + hlen;
	uint32_t l4len = p->len - hlen;
	uint16_t sport, dport;
	if (proto == IPPROTO_ICMP && l4len >= 8 && is_error(l4[0]))
		return inbound_error(ifp, p, l4, l4len);
	bool echo =
	    proto == IPPROTO_ICMP && l4len >= 8 && l4[0] == ICMP_ECHO_REPLY;
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP && !echo) ||
	    !ports(proto, l4, l4len, &sport, &dport))
		return false;
	if (echo)
		sport = 0;
	int32_t e = find_in(proto, dport, get32(ip + 12), sport);
	if (e < 0)
		return false;
	struct nat_entry *n = &table[e];
	touch(n, proto, proto == IPPROTO_TCP ? l4[13] : 0, true);
	rewrite(ip, ip + 16, n->in_ip, l4, echo ? l4 + 4 : l4 + 2, n->in_port,
		pkt_meta(p)->csum_start != 0);
	ifp->count.nat_in++;
	return true;
}

int nat_passthrough(struct netif *in, struct pkt *p)
{
	const uint8_t *ip = p->data;
	if (in != masq)
		return 0;
	unsigned hlen = (ip[0] & 0xf) * 4;
	uint8_t proto = ip[9], *l4 = p->data + hlen;
	uint16_t sport, dport;
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
	     (proto != IPPROTO_ICMP || p->len < hlen + 8 ||
	      l4[0] != ICMP_ECHO)) ||
	    !ports(proto, l4, p->len - hlen, &sport, &dport))
		return 0;
	if (proto == IPPROTO_ICMP)
		sport = 0; /* the reply's key: id and peer port 0 */
	uint32_t src = get32(ip + 12), dst = get32(ip + 16);
	/* Keyed as its replies will be looked up on the way out. */
	int32_t e = find_out(proto, dst, dport, src, sport);
	if (e < 0 && (e = create(proto, dst, dport, src, sport, true)) < 0)
		return -ENOSPC;
	touch(&table[e], proto, proto == IPPROTO_TCP ? l4[13] : 0, true);
	return 0;
}

int nat_configure(int argc, char **argv)
{
	const char *name = CONFIG_NET_MASQUERADE;
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--masquerade=", 13) == 0)
			name = argv[i] + 13;
	if (!*name)
		return 0;
	for (unsigned i = 0; i < net_nifs; i++)
		if (strcmp(net_ifs[i].dev->name, name) == 0)
			masq = &net_ifs[i];
	if (!masq || !CONFIG_NET_FORWARD) {
		fprintf(stderr, "net: masquerade on \"%s\": %s\n", name,
			masq ? "the image does not forward (CONFIG_NET_FORWARD)"
			     : "no interface of that name");
		masq = NULL;
		return -EINVAL;
	}
	table = calloc(CONFIG_NET_NAT_ENTRIES, sizeof *table);
	out_hash = malloc(HASH_SIZE * sizeof *out_hash);
	in_hash = malloc(HASH_SIZE * sizeof *in_hash);
	if (!table || !out_hash || !in_hash) {
		fprintf(stderr, "net: no memory for %d NAT entries\n",
			CONFIG_NET_NAT_ENTRIES);
		masq = NULL;
		return -ENOMEM;
	}
	memset(out_hash, 0xff, HASH_SIZE * sizeof *out_hash);
	memset(in_hash, 0xff, HASH_SIZE * sizeof *in_hash);
	for (int32_t e = 0; e < CONFIG_NET_NAT_ENTRIES; e++)
		table[e].next_out = e + 1 < CONFIG_NET_NAT_ENTRIES ? e + 1 : -1;
	free_head = 0;
	hash_key = ingot_boot_info()->random_seed * 0x9e3779b97f4a7c15ULL;
	rng = hash_key | 1;
	sched_timer_init(&sweeper, sweep, NULL);
	sched_timer_arm(&sweeper, sched_now() + SEC);
	printf("net: masquerade on %s\n", name);
	return 0;
}
