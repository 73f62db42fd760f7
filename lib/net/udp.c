/*
 * UDP (RFC 768): checksums both ways, datagrams queued per socket (at most
 * CONFIG_NET_UDP_QUEUE each), receive and send for fibers, with timeouts,
 * and a zero-copy form that hands out the packet itself.
 */
#include <errno.h>
#include <string.h>

#include "net_internal.h"

struct udp_sock {
	uint16_t port; /* 0: free */
	struct pkt_queue queue;
	struct sched_waitq readers;
};

static struct udp_sock socks[CONFIG_NET_UDP_SOCKETS];
static uint16_t next_ephemeral = 49152;

static struct udp_sock *by_port(uint16_t port)
{
	for (unsigned i = 0; i < CONFIG_NET_UDP_SOCKETS; i++)
		if (socks[i].port == port)
			return &socks[i];
	return NULL;
}

struct udp_sock *udp_open(uint16_t port, int *err)
{
	int e = 0;
	struct udp_sock *s = NULL;
	if (!port) {
		for (unsigned tries = 0; tries < 16384 && !port; tries++) {
			uint16_t p = next_ephemeral++;
			if (next_ephemeral == 0)
				next_ephemeral = 49152;
			if (!by_port(p))
				port = p;
		}
	}
	if (!port || by_port(port))
		e = -EADDRINUSE;
	else if (!(s = by_port(0)))
		e = -ENOSPC;
	else
		*s = (struct udp_sock){.port = port};
	if (err)
		*err = e;
	return e ? NULL : s;
}

void udp_close(struct udp_sock *s)
{
	struct pkt *p;
	while ((p = pkt_queue_pop(&s->queue)))
		pkt_free(p);
	sched_wake_all(&s->readers);
	s->port = 0;
}

void udp_input(struct netif *ifp, struct pkt *p)
{
	struct pkt_meta *m = pkt_meta(p);
	const uint8_t *u = p->data;
	ifp->count.udp_in++;
	if (p->len < UDP_HLEN || get16(u + 4) < UDP_HLEN ||
	    get16(u + 4) > p->len) {
		ifp->count.udp_drop_malformed++;
		goto drop;
	}
	uint16_t len = get16(u + 4);
	if (get16(u + 6) != 0 && !m->csum_ok &&
	    net_csum_fold(net_csum_add(
		net_csum_pseudo(m->src_ip, m->dst_ip, IPPROTO_UDP, len), u,
		len)) != 0) {
		ifp->count.udp_drop_bad_checksum++;
		goto drop;
	}
	m->src_port = get16(u);
	m->dst_port = get16(u + 2);
	struct udp_sock *s = m->dst_port ? by_port(m->dst_port) : NULL;
	if (!s) {
		ifp->count.udp_drop_no_port++;
		/* Back to the IP header for the quote. */
		icmp_unreachable(ifp, p->data - m->ip_hlen, p->len + m->ip_hlen,
				 3); /* port unreachable */
		goto drop;
	}
	if (s->queue.len >= CONFIG_NET_UDP_QUEUE) {
		ifp->count.udp_drop_queue_full++;
		goto drop;
	}
	pkt_pull(p, UDP_HLEN);
	p->len = len - UDP_HLEN;
	pkt_queue_push(&s->queue, p);
	sched_wake_one(&s->readers);
	return;
drop:
	pkt_free(p);
}

struct pkt *udp_recv_pkt(struct udp_sock *s, struct net_addr *from,
			 uint64_t deadline_ns)
{
	while (!s->queue.head) {
		if (sched_wait(&s->readers, deadline_ns) == -ETIMEDOUT)
			return NULL;
		if (!s->port)
			return NULL;
	}
	struct pkt *p = pkt_queue_pop(&s->queue);
	if (from)
		*from = (struct net_addr){pkt_meta(p)->src_ip,
					  pkt_meta(p)->src_port};
	return p;
}

int udp_recvfrom(struct udp_sock *s, void *buf, size_t cap,
		 struct net_addr *from, uint64_t deadline_ns)
{
	struct pkt *p = udp_recv_pkt(s, from, deadline_ns);
	if (!p)
		return -ETIMEDOUT;
	int len = (int)p->len;
	memcpy(buf, p->data, cap < p->len ? cap : p->len);
	pkt_free(p);
	return len;
}

/* The checksum covers the pseudo-header, the header and the payload
 * (header then payload: two pieces when the payload is elsewhere). */
static void put_header(uint8_t *u, uint16_t sport, uint16_t dport, uint32_t src,
		       uint32_t dst, const void *payload, size_t plen)
{
	size_t len = UDP_HLEN + plen;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)len);
	put16(u + 6, 0);
	uint32_t sum = net_csum_pseudo(src, dst, IPPROTO_UDP, (uint32_t)len);
	sum = net_csum_add(sum, u, UDP_HLEN);
	sum = net_csum_add(sum, payload, plen);
	uint16_t c = net_csum_fold(sum);
	put16(u + 6, c ? c : 0xffff); /* 0 would mean "no checksum" */
}

void udp_put_header(uint8_t *u, uint16_t sport, uint16_t dport, uint32_t src,
		    uint32_t dst, size_t plen)
{
	put_header(u, sport, dport, src, dst, u + UDP_HLEN, plen);
}

static struct netif *source_for(uint32_t dst, uint32_t *src)
{
	uint32_t nh;
	struct netif *ifp = ipv4_route(dst, &nh);
	*src = ifp ? ifp->ip : 0;
	return ifp;
}

int udp_sendto(struct udp_sock *s, const void *buf, size_t len,
	       const struct net_addr *to)
{
	if (len > 65507)
		return -EMSGSIZE;
	uint8_t u[UDP_HLEN];
	uint32_t src;
	struct netif *ifp = source_for(to->ip, &src);
	put_header(u, s->port, to->port, src, to->ip, buf, len);
	int rc =
	    ipv4_output_buf(u, UDP_HLEN, buf, len, IPPROTO_UDP, src, to->ip);
	if (rc == 0)
		ifp->count.udp_out++;
	return rc;
}

int udp_send_pkt(struct udp_sock *s, struct pkt *p, const struct net_addr *to)
{
	if (p->len > 65507) {
		pkt_free(p);
		return -EMSGSIZE;
	}
	if (pkt_headroom(p) < UDP_HLEN + IP_HLEN + ETH_HLEN) {
		int rc = udp_sendto(s, p->data, p->len, to);
		pkt_free(p);
		return rc;
	}
	uint32_t src;
	struct netif *ifp = source_for(to->ip, &src);
	size_t plen = p->len;
	if (!ifp || plen + UDP_HLEN + IP_HLEN > ifp->mtu) {
		/* Fragmented (or not sent): the whole checksum, here. */
		udp_put_header(pkt_push(p, UDP_HLEN), s->port, to->port, src,
			       to->ip, plen);
	} else {
		uint8_t *u = pkt_push(p, UDP_HLEN);
		put16(u, s->port);
		put16(u + 2, to->port);
		put16(u + 4, (uint16_t)(plen + UDP_HLEN));
		net_csum_l4(ifp, p, u, IPPROTO_UDP, src, to->ip,
			    (uint32_t)(plen + UDP_HLEN), 6);
	}
	if (ifp)
		ifp->count.udp_out++;
	return ipv4_output(p, IPPROTO_UDP, to->ip);
}
