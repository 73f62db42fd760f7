/*
 * The DHCP client (RFC 2131, options from RFC 2132): discover, offer,
 * request, ack; renewal from the leasing server at T1, rebinding by
 * broadcast at T2, and the address given up when the lease ends.  One
 * fiber serves every interface configured by DHCP, on UDP port 68.
 *
 * Not done: the ARP probe for a conflicting address before use (2131
 * 4.4.1 says SHOULD; the servers probe first in practice), option
 * overloading into sname/file (52), INIT-REBOOT of a remembered address.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net_internal.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_FIXED       236 /* op .. file */
#define DHCP_MIN_LEN     300 /* BOOTP's minimum, which some servers expect */
#define DHCP_COOKIE      0x63825363
#define SEC              1000000000ULL
#define RETRANSMIT_MIN   (4 * SEC) /* 2131 4.1: 4, 8, ... 64 s */
#define RETRANSMIT_MAX   (64 * SEC)
#define RENEW_RETRY_MIN  (4 * SEC) /* 2131 says 60 s; short leases need less */
#define REQUEST_TRIES    4

enum {
	DHCPDISCOVER = 1,
	DHCPOFFER,
	DHCPREQUEST,
	DHCPDECLINE,
	DHCPACK,
	DHCPNAK,
	DHCPRELEASE
};

enum {
	OPT_PAD = 0,
	OPT_NETMASK = 1,
	OPT_ROUTER = 3,
	OPT_REQUESTED_IP = 50,
	OPT_LEASE = 51,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAMS = 55,
	OPT_MAX_SIZE = 57,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_CLIENT_ID = 61,
	OPT_END = 255
};

enum state { INIT, SELECTING, REQUESTING, BOUND, RENEWING, REBINDING };

struct dhcp {
	struct netif *ifp;
	enum state state;
	uint32_t xid;
	unsigned tries;
	uint64_t deadline; /* of the state's next step */
	uint64_t started;  /* this exchange's first message, for secs */
	uint64_t sent_at;  /* the last REQUEST: leases count from here */
	uint32_t offered, server;
	uint64_t t1_at, t2_at, end_at;
};

static struct dhcp clients[INGOT_DEVICES_MAX];
static unsigned nclients;
static struct udp_sock *sock;
static uint32_t next_xid;

/* What a reply carries, options parsed. */
struct reply {
	uint8_t type;
	uint32_t yiaddr, server, netmask, router, lease, t1, t2;
	bool has_netmask, has_router, has_lease, has_t1, has_t2;
};

static uint8_t *put_option(uint8_t *o, uint8_t code, const void *v, uint8_t len)
{
	o[0] = code;
	o[1] = len;
	memcpy(o + 2, v, len);
	return o + 2 + len;
}

static uint8_t *put_option32(uint8_t *o, uint8_t code, uint32_t v)
{
	uint8_t b[4];
	put32(b, v);
	return put_option(o, code, b, 4);
}

static void send_message(struct dhcp *d, uint8_t type, uint64_t now)
{
	struct netif *ifp = d->ifp;
	bool renewing = d->state == RENEWING,
	     bound = renewing || d->state == REBINDING;
	struct pkt *p = pkt_alloc();
	if (!p) {
		ifp->count.drop_no_buffer++;
		return;
	}
	uint8_t *m = p->data;
	memset(m, 0, DHCP_MIN_LEN);
	m[0] = 1; /* BOOTREQUEST */
	m[1] = 1; /* Ethernet */
	m[2] = 6;
	put32(m + 4, d->xid);
	uint64_t secs = (now - d->started) / SEC;
	put16(m + 8, secs > 0xffff ? 0xffff : (uint16_t)secs);
	/* Without an address we cannot take a unicast reply: ask for a
	 * broadcast one. */
	put16(m + 10, bound ? 0 : 0x8000);
	if (bound)
		put32(m + 12, ifp->ip);
	memcpy(m + 28, ifp->mac, 6);
	put32(m + DHCP_FIXED, DHCP_COOKIE);

	uint8_t *o = m + DHCP_FIXED + 4;
	o = put_option(o, OPT_MSG_TYPE, &type, 1);
	uint8_t client_id[7] = {1};
	memcpy(client_id + 1, ifp->mac, 6);
	o = put_option(o, OPT_CLIENT_ID, client_id, 7);
	uint8_t max_size[2];
	put16(max_size, (uint16_t)(ifp->mtu - IP_HLEN - UDP_HLEN));
	o = put_option(o, OPT_MAX_SIZE, max_size, 2);
	static const uint8_t params[] = {OPT_NETMASK,   OPT_ROUTER, OPT_LEASE,
					 OPT_SERVER_ID, OPT_T1,     OPT_T2};
	o = put_option(o, OPT_PARAMS, params, sizeof params);
	if (type == DHCPREQUEST && d->state == REQUESTING) {
		o = put_option32(o, OPT_REQUESTED_IP, d->offered);
		o = put_option32(o, OPT_SERVER_ID, d->server);
	}
	*o++ = OPT_END;
	size_t len = (size_t)(o - m);
	p->len = (uint32_t)(len < DHCP_MIN_LEN ? DHCP_MIN_LEN : len);

	uint32_t src = bound ? ifp->ip : 0, dst = IP_BROADCAST, nh = dst;
	if (renewing) {
		dst = d->server;
		nh = (dst & ifp->netmask) == (ifp->ip & ifp->netmask) ||
			     !ifp->gateway
			 ? dst
			 : ifp->gateway;
	}
	size_t plen = p->len;
	udp_put_header(pkt_push(p, UDP_HLEN), DHCP_CLIENT_PORT,
		       DHCP_SERVER_PORT, src, dst, plen);
	ifp->count.udp_out++;
	ipv4_send(ifp, p, IPPROTO_UDP, src, dst, nh);
	if (type == DHCPREQUEST)
		d->sent_at = now;
}

/* Exponential backoff, 4 s doubling to 64 s, with up to 1 s of jitter
 * (2131 4.1) so that clients booted together spread out. */
static uint64_t backoff(struct dhcp *d, uint64_t now)
{
	uint64_t wait = RETRANSMIT_MIN << (d->tries < 4 ? d->tries : 4);
	if (wait > RETRANSMIT_MAX)
		wait = RETRANSMIT_MAX;
	d->tries++;
	return now + wait - (d->xid * 2654435761u + d->tries) % SEC;
}

/* Half the time left to limit, at least RENEW_RETRY_MIN, never past it. */
static uint64_t halfway(uint64_t now, uint64_t limit)
{
	uint64_t wait = limit > now ? (limit - now) / 2 : 0;
	if (wait < RENEW_RETRY_MIN)
		wait = RENEW_RETRY_MIN;
	return now + wait < limit ? now + wait : limit;
}

static void unconfigure(struct dhcp *d)
{
	if (d->ifp->ip)
		printf("net: %s lost its DHCP lease\n", d->ifp->dev->name);
	d->ifp->ip = 0;
	d->ifp->netmask = 0;
	d->ifp->gateway = 0;
}

static void restart(struct dhcp *d, uint64_t now)
{
	d->state = INIT;
	d->deadline = now;
}

/* The state's next step when its deadline comes. */
static void step(struct dhcp *d, uint64_t now)
{
	switch (d->state) {
	case INIT:
		d->xid = next_xid++;
		d->tries = 0;
		d->started = now;
		d->state = SELECTING;
		/* fall through */
	case SELECTING:
		send_message(d, DHCPDISCOVER, now);
		d->deadline = backoff(d, now);
		break;
	case REQUESTING:
		if (d->tries >= REQUEST_TRIES) {
			restart(d, now);
			return;
		}
		send_message(d, DHCPREQUEST, now);
		d->deadline = backoff(d, now);
		break;
	case BOUND:
		d->state = RENEWING;
		d->xid = next_xid++;
		d->started = now;
		/* fall through */
	case RENEWING:
		if (now >= d->t2_at) {
			d->state = REBINDING;
			step(d, now);
			return;
		}
		send_message(d, DHCPREQUEST, now);
		d->deadline = halfway(now, d->t2_at);
		break;
	case REBINDING:
		if (now >= d->end_at) {
			unconfigure(d);
			restart(d, now);
			return;
		}
		send_message(d, DHCPREQUEST, now);
		d->deadline = halfway(now, d->end_at);
		break;
	}
}

static bool parse(const struct pkt *p, const struct dhcp *d, struct reply *r)
{
	const uint8_t *m = p->data;
	if (p->len < DHCP_FIXED + 4 || m[0] != 2 || m[1] != 1 || m[2] != 6 ||
	    get32(m + 4) != d->xid || memcmp(m + 28, d->ifp->mac, 6) != 0 ||
	    get32(m + DHCP_FIXED) != DHCP_COOKIE)
		return false;
	memset(r, 0, sizeof *r);
	r->yiaddr = get32(m + 16);
	const uint8_t *o = m + DHCP_FIXED + 4, *end = m + p->len;
	while (o < end && *o != OPT_END) {
		if (*o == OPT_PAD) {
			o++;
			continue;
		}
		if (end - o < 2 || end - o - 2 < o[1])
			return false;
		uint8_t code = o[0], len = o[1];
		const uint8_t *v = o + 2;
		o += 2 + len;
		if (code == OPT_MSG_TYPE && len == 1) {
			r->type = v[0];
			continue;
		}
		if (len < 4)
			continue;
		uint32_t x = get32(v);
		switch (code) {
		case OPT_NETMASK:
			r->netmask = x;
			r->has_netmask = len == 4;
			break;
		case OPT_ROUTER: /* a list: the first is preferred */
			r->router = x;
			r->has_router = true;
			break;
		case OPT_SERVER_ID:
			r->server = x;
			break;
		case OPT_LEASE:
			r->lease = x;
			r->has_lease = len == 4;
			break;
		case OPT_T1:
			r->t1 = x;
			r->has_t1 = len == 4;
			break;
		case OPT_T2:
			r->t2 = x;
			r->has_t2 = len == 4;
			break;
		}
	}
	return r->type != 0;
}

static bool usable_address(uint32_t a)
{
	return a && a != IP_BROADCAST && (a >> 24) != 127 && (a >> 24) != 0 &&
	       (a >> 28) < 14;
}

/* A netmask is ones then zeros. */
static bool contiguous(uint32_t mask)
{
	return mask && !(~mask & (~mask + 1));
}

static void bind_lease(struct dhcp *d, const struct reply *r)
{
	struct netif *ifp = d->ifp;
	bool renewal = d->state == RENEWING || d->state == REBINDING;
	bool changed = ifp->ip != r->yiaddr;
	uint32_t mask = r->has_netmask && contiguous(r->netmask) ? r->netmask
			: (r->yiaddr >> 30) == 2 ? 0xffff0000 /* class B */
			: (r->yiaddr >> 29) == 6 ? 0xffffff00 /* class C */
						 : 0xff000000;
	uint64_t lease = r->has_lease ? r->lease : 0xffffffff;
	uint64_t t2 = r->has_t2 && r->t2 < lease ? r->t2 : lease * 7 / 8;
	uint64_t t1 = r->has_t1 && r->t1 < t2 ? r->t1 : lease / 2;
	if (t1 > t2)
		t1 = t2;

	ifp->ip = r->yiaddr;
	ifp->netmask = mask;
	ifp->gateway = r->has_router ? r->router : 0;
	d->server = r->server ? r->server : d->server;
	d->state = BOUND;
	d->tries = 0;
	if (lease == 0xffffffff) { /* infinite */
		d->t1_at = d->t2_at = d->end_at = d->deadline = UINT64_MAX;
	} else {
		d->t1_at = d->sent_at + t1 * SEC;
		d->t2_at = d->sent_at + t2 * SEC;
		d->end_at = d->sent_at + lease * SEC;
		d->deadline = d->t1_at;
	}
	ifp->count.dhcp_acks++;
	if (renewal)
		ifp->count.dhcp_renewals++;
	if (changed || !renewal) {
		char a[16], m[16], g[16], s[16];
		printf("net: %s %s netmask %s gateway %s (DHCP from %s, lease "
		       "%lu s)\n",
		       ifp->dev->name, net_format_ipv4(ifp->ip, a),
		       net_format_ipv4(mask, m),
		       ifp->gateway ? net_format_ipv4(ifp->gateway, g) : "none",
		       net_format_ipv4(d->server, s), (unsigned long)lease);
		arp_announce(ifp);
	} else {
		printf("net: %s renewed %s (lease %lu s)\n", ifp->dev->name,
		       net_format_ipv4(ifp->ip, (char[16]){0}),
		       (unsigned long)lease);
	}
	sched_wake_all(&ifp->configured);
}

static void input(struct pkt *p, uint64_t now)
{
	struct dhcp *d = NULL;
	for (unsigned i = 0; i < nclients; i++)
		if (clients[i].ifp == pkt_meta(p)->ifp)
			d = &clients[i];
	struct reply r;
	if (!d || !parse(p, d, &r)) {
		if (d)
			d->ifp->count.dhcp_drop_invalid++;
		return;
	}
	struct netif *ifp = d->ifp;
	switch (r.type) {
	case DHCPOFFER:
		if (d->state != SELECTING || !usable_address(r.yiaddr) ||
		    !r.server) {
			ifp->count.dhcp_drop_invalid++;
			return;
		}
		ifp->count.dhcp_offers++;
		d->offered = r.yiaddr;
		d->server = r.server;
		d->state = REQUESTING;
		d->tries = 0;
		step(d, now); /* the first REQUEST, at once */
		break;
	case DHCPACK:
		if ((d->state != REQUESTING && d->state != RENEWING &&
		     d->state != REBINDING) ||
		    !usable_address(r.yiaddr) ||
		    (d->state == REQUESTING && r.server &&
		     r.server != d->server)) {
			ifp->count.dhcp_drop_invalid++;
			return;
		}
		bind_lease(d, &r);
		break;
	case DHCPNAK:
		if (d->state != REQUESTING && d->state != RENEWING &&
		    d->state != REBINDING) {
			ifp->count.dhcp_drop_invalid++;
			return;
		}
		ifp->count.dhcp_naks++;
		unconfigure(d);
		restart(d, now);
		break;
	default:
		ifp->count.dhcp_drop_invalid++;
	}
}

uint64_t dhcp_turn(uint64_t now, uint64_t wait_until)
{
	uint64_t next = UINT64_MAX;
	for (unsigned i = 0; i < nclients; i++) {
		struct dhcp *d = &clients[i];
		if (d->deadline <= now)
			step(d, now);
		if (d->deadline < next)
			next = d->deadline;
	}
	struct pkt *p =
	    udp_recv_pkt(sock, NULL, next < wait_until ? next : wait_until);
	if (p) {
		input(p, sched_now());
		pkt_free(p);
	}
	return next;
}

static void run(void *arg)
{
	(void)arg;
	for (;;)
		dhcp_turn(sched_now(), UINT64_MAX);
}

void dhcp_start(struct netif *ifp)
{
	if (!sock) {
		int err = 0;
		sock = udp_open(DHCP_CLIENT_PORT, &err);
		if (!sock || sched_spawn(run, NULL, "dhcp") < 0) {
			fprintf(stderr, "net: cannot start DHCP (%d)\n", err);
			return;
		}
		next_xid = (uint32_t)ingot_boot_info()->random_seed;
	}
	clients[nclients++] = (struct dhcp){.ifp = ifp, .state = INIT};
}
