/*
 * Interface configuration (build options, then boot arguments), start-up,
 * and the counters report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

int net_parse_ipv4(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char *end;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned long b = strtoul(s, &end, 10);
		if (b > 255 || end - s > 3 || (i < 3 && *end != '.'))
			return -EINVAL;
		v = v << 8 | (uint32_t)b;
		s = end + (i < 3);
		if (i == 3 && *end)
			return -EINVAL;
	}
	*ip = v;
	return 0;
}

char *net_format_ipv4(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255,
		 ip >> 8 & 255, ip & 255);
	return buf;
}

/* "dhcp" or "ADDR/PREFIX". */
static int parse_address(struct netif *ifp, const char *v)
{
	if (strcmp(v, "dhcp") == 0) {
		ifp->dhcp = true;
		ifp->ip = 0;
		return 0;
	}
	char addr[16];
	const char *slash = strchr(v, '/');
	if (!slash || slash - v >= (long)sizeof addr)
		return -EINVAL;
	memcpy(addr, v, slash - v);
	addr[slash - v] = '\0';
	char *end;
	unsigned long prefix = strtoul(slash + 1, &end, 10);
	if (net_parse_ipv4(addr, &ifp->ip) < 0 || *end || end == slash + 1 ||
	    prefix < 1 || prefix > 32 || !ifp->ip)
		return -EINVAL;
	ifp->netmask = prefix == 32 ? 0xffffffff : ~(0xffffffffu >> prefix);
	ifp->dhcp = false;
	return 0;
}

static int parse_gateway(struct netif *ifp, const char *v)
{
	if (!*v) {
		ifp->gateway = 0;
		return 0;
	}
	return net_parse_ipv4(v, &ifp->gateway);
}

/* "--KEY=V" or "--KEY:NAME=V" for this interface; NULL if a's not one. */
static const char *key_value(const char *a, const char *key,
			     const struct netif *ifp)
{
	size_t k = strlen(key);
	if (strncmp(a, key, k) != 0)
		return NULL;
	a += k;
	if (*a == ':') {
		size_t n = strlen(ifp->dev->name);
		if (strncmp(a + 1, ifp->dev->name, n) != 0 || a[1 + n] != '=')
			return NULL;
		return a + 2 + n;
	}
	return *a == '=' ? a + 1 : NULL;
}

static int configure(struct netif *ifp, int argc, char **argv)
{
	if (parse_address(ifp, CONFIG_NET_IPV4) < 0 ||
	    parse_gateway(ifp, CONFIG_NET_IPV4_GATEWAY) < 0) {
		fprintf(stderr, "net: bad CONFIG_NET_IPV4 or _GATEWAY\n");
		return -EINVAL;
	}
	for (int i = 1; i < argc; i++) {
		const char *v;
		int rc = 0;
		if ((v = key_value(argv[i], "--ipv4", ifp)))
			rc = parse_address(ifp, v);
		else if ((v = key_value(argv[i], "--ipv4-gateway", ifp)))
			rc = parse_gateway(ifp, v);
		if (rc < 0) {
			fprintf(stderr,
				"net: %s: expected --ipv4=ADDR/PREFIX, "
				"--ipv4=dhcp or --ipv4-gateway=ADDR\n",
				argv[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int net_start(int argc, char **argv)
{
	if (!net_nifs) {
		fprintf(stderr, "net: no network device attached\n");
		return -ENODEV;
	}
	for (unsigned i = 0; i < net_nifs; i++) {
		int rc = configure(&net_ifs[i], argc, argv);
		if (rc < 0)
			return rc;
	}
	int rc = ipv4_route_configure(argc, argv);
	if (rc == 0)
		rc = nat_configure(argc, argv);
	if (rc < 0)
		return rc;
	/* Counters on exit and on request (SIGUSR1 to the host). */
	atexit(net_print_counters);
	sched_on_report(net_print_counters);
	arp_timer_start();
	for (unsigned i = 0; i < net_nifs; i++) {
		struct netif *ifp = &net_ifs[i];
		char a[16], m[16];
		if (ifp->dhcp) {
			dhcp_start(ifp);
			continue;
		}
		printf("net: %s %s netmask %s\n", ifp->dev->name,
		       net_format_ipv4(ifp->ip, a),
		       net_format_ipv4(ifp->netmask, m));
		arp_announce(ifp);
	}
	return 0;
}

int net_wait_configured(const char *name, uint64_t deadline_ns)
{
	for (unsigned i = 0; i < net_nifs; i++) {
		struct netif *ifp = &net_ifs[i];
		if (name && strcmp(ifp->dev->name, name) != 0)
			continue;
		while (!ifp->ip)
			if (sched_wait(&ifp->configured, deadline_ns) < 0)
				return -ETIMEDOUT;
		return 0;
	}
	return -ENODEV;
}

static void print_counters(const char *name, const struct net_counters *c)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
#define NET_COUNTER_ENTRY(n) {#n, offsetof(struct net_counters, n)},
	    NET_COUNTERS(NET_COUNTER_ENTRY)
#undef NET_COUNTER_ENTRY
	};
	printf("net: counters of %s:", name);
	int col = 0;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		uint64_t v =
		    *(const uint64_t *)((const char *)c + fields[i].offset);
		if (!v)
			continue; /* zero counters would drown the rest */
		printf("%s %s=%lu", col++ % 4 ? "" : "\n ", fields[i].name,
		       (unsigned long)v);
	}
	printf("%s\n", col ? "" : " all zero");
}

/* Where an interface holds packets of the pool: buffers on the RX ring
 * (empty or filled and not yet taken), frames on the TX ring the host has
 * not finished, and those waiting for room there. */
static void print_held(const struct netif *ifp)
{
	printf(" rx_ring_pkts=%u tx_ring_slots=%u txq_pkts=%u\n",
	       ifp->rx->avail - ifp->rx_done, ifp->tx->avail - ifp->tx_done,
	       ifp->txq.len);
}

void net_print_counters(void)
{
	for (unsigned i = 0; i < net_nifs; i++) {
		print_counters(net_ifs[i].dev->name, &net_ifs[i].count);
		print_held(&net_ifs[i]);
	}
	static const struct net_counters zero;
	if (memcmp(&net_global, &zero, sizeof zero) != 0)
		print_counters("(no interface)", &net_global);
	fflush(stdout);
}
