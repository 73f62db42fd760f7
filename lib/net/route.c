/*
 * The IPv4 routing table: each interface's connected network, static
 * routes (CONFIG_NET_ROUTES, then the image's --route arguments), and each
 * interface's default gateway; the longest prefix wins, a connected
 * network over a static route of the same length.  Tables here hold tens
 * of routes, so a scan is both exact and fast.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define ROUTES_MAX 64

struct route {
	uint32_t prefix, mask; /* host order */
	uint8_t len;
	uint32_t via;      /* the next hop, or 0: on the link of dev */
	struct netif *dev; /* a route "dev=NAME" */
};

static struct route routes[ROUTES_MAX];
static unsigned nroutes;

static uint32_t mask_of(unsigned len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

/* The interface whose connected network holds addr. */
static struct netif *connected(uint32_t addr)
{
	struct netif *best = NULL;
	for (unsigned i = 0; i < net_nifs; i++) {
		struct netif *ifp = &net_ifs[i];
		if (ifp->ip &&
		    (addr & ifp->netmask) == (ifp->ip & ifp->netmask) &&
		    (!best || ifp->netmask > best->netmask))
			best = ifp;
	}
	return best;
}

struct netif *ipv4_route(uint32_t dst, uint32_t *next_hop)
{
	if (dst == IP_BROADCAST) {
		for (unsigned i = 0; i < net_nifs; i++)
			if (net_ifs[i].ip || net_ifs[i].dhcp) {
				*next_hop = dst;
				return &net_ifs[i];
			}
		return NULL;
	}
	struct netif *best = connected(dst);
	int best_len = best ? __builtin_popcount(best->netmask) : -1;
	*next_hop = dst;
	for (unsigned i = 0; i < nroutes; i++) {
		const struct route *r = &routes[i];
		if ((dst & r->mask) != r->prefix || r->len <= best_len)
			continue;
		struct netif *ifp = r->via ? connected(r->via) : r->dev;
		if (!ifp || !ifp->ip)
			continue; /* its next hop is on no link (yet) */
		best = ifp;
		best_len = r->len;
		*next_hop = r->via ? r->via : dst;
	}
	if (best)
		return best;
	for (unsigned i = 0; i < net_nifs; i++)
		if (net_ifs[i].ip && net_ifs[i].gateway) {
			*next_hop = net_ifs[i].gateway;
			return &net_ifs[i];
		}
	return NULL;
}

/* "PREFIX/LEN,via=ADDR", "PREFIX/LEN,dev=NAME" or "default,via=ADDR", of n
 * bytes at s. */
static int parse_route(const char *s, size_t n, struct route *r)
{
	char item[64], *comma, *slash;
	if (n >= sizeof item)
		return -EINVAL;
	memcpy(item, s, n);
	item[n] = '\0';
	if (!(comma = strchr(item, ',')))
		return -EINVAL;
	*comma++ = '\0';
	*r = (struct route){0};
	if (strcmp(item, "default") != 0) {
		if (!(slash = strchr(item, '/')))
			return -EINVAL;
		*slash++ = '\0';
		char *end;
		unsigned long len = strtoul(slash, &end, 10);
		if (*end || end == slash || len > 32 ||
		    net_parse_ipv4(item, &r->prefix) < 0)
			return -EINVAL;
		r->len = (uint8_t)len;
		r->mask = mask_of(r->len);
		if (r->prefix & ~r->mask)
			return -EINVAL; /* host bits set: a typo, not a route */
	}
	if (strncmp(comma, "via=", 4) == 0)
		return net_parse_ipv4(comma + 4, &r->via) < 0 || !r->via
			   ? -EINVAL
			   : 0;
	if (strncmp(comma, "dev=", 4) != 0 || !r->len)
		return -EINVAL;
	for (unsigned i = 0; i < net_nifs; i++)
		if (strcmp(net_ifs[i].dev->name, comma + 4) == 0)
			r->dev = &net_ifs[i];
	return r->dev ? 0 : -ENODEV;
}

static int add_routes(const char *list, const char *from)
{
	for (const char *s = list; *s;) {
		size_t n = strcspn(s, " ");
		if (n) {
			if (nroutes == ROUTES_MAX) {
				fprintf(stderr, "net: more than %d routes\n",
					ROUTES_MAX);
				return -ENOSPC;
			}
			int rc = parse_route(s, n, &routes[nroutes]);
			if (rc < 0) {
				fprintf(
				    stderr,
				    "net: %s: bad route \"%.*s\": expected "
				    "PREFIX/LEN,via=ADDR, PREFIX/LEN,dev=NAME"
				    " (an interface of the image) or "
				    "default,via=ADDR\n",
				    from, (int)n, s);
				return rc;
			}
			nroutes++;
		}
		s += n + (s[n] == ' ');
	}
	return 0;
}

int ipv4_route_configure(int argc, char **argv)
{
	int rc = add_routes(CONFIG_NET_ROUTES, "CONFIG_NET_ROUTES");
	for (int i = 1; i < argc && rc == 0; i++)
		if (strncmp(argv[i], "--route=", 8) == 0)
			rc = add_routes(argv[i] + 8, argv[i]);
	for (unsigned i = 0; i < nroutes && rc == 0; i++) {
		char a[16], b[16];
		const struct route *r = &routes[i];
		printf("net: route %s/%u %s %s\n",
		       net_format_ipv4(r->prefix, a), r->len,
		       r->via ? "via" : "dev",
		       r->via ? net_format_ipv4(r->via, b) : r->dev->dev->name);
	}
	return rc;
}
