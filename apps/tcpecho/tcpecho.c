/*
 * tcpecho: TCP echo (port 7, RFC 862), discard (port 9, RFC 863) and a
 * sender (port 19), for tests and the packet-level harness.
 *
 *   ingot-kvm --net service=TAP build/kvm/tcpecho.kvm --ipv4=ADDR/PREFIX
 *       [--ipv4-gateway=ADDR] [--connect=ADDR:PORT]
 *       [--keepalive=IDLE_MS,INTVL_MS,PROBES]
 *
 * Port 7 sends every byte back until the peer closes, then closes.
 * Port 9 reads until the peer closes, then prints
 *   "tcpecho: discard N bytes" and closes.
 * Port 19 reads one line holding a decimal N, sends N bytes of the pattern
 * byte i = i % 251, then closes (its FIN follows the data).
 * --connect=ADDR:PORT: at start, connects out, sends the pattern's first
 * 100000 bytes, reads until the peer closes, prints "tcpecho: connect
 * sent 100000 got N bytes sha M" (M: a 32-bit FNV-1a of what came back).
 * --keepalive: every accepted connection probes an idle peer so
 * (tcp_set_keepalive), and one that stops answering is reset.
 * One fiber per connection; a connection that finds none free is closed.
 * The counters print at exit and on SIGUSR1.
 */
#include <errno.h>
#include <ingot/abi.h>
#include <ingot/net.h>
#include <ingot/sched.h>
#include <ingot/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_NET, service);

#define BUF 4096

static void echo(void *arg)
{
	struct tcp_conn *c = arg;
	uint8_t buf[BUF];
	int n;
	while ((n = tcp_read(c, buf, sizeof buf, UINT64_MAX)) > 0)
		if (tcp_write(c, buf, (size_t)n, UINT64_MAX) != n)
			break;
	tcp_close(c);
}

static void discard(void *arg)
{
	struct tcp_conn *c = arg;
	uint8_t buf[BUF];
	unsigned long total = 0;
	int n;
	while ((n = tcp_read(c, buf, sizeof buf, UINT64_MAX)) > 0)
		total += (unsigned long)n;
	printf("tcpecho: discard %lu bytes%s\n", total,
	       n < 0 ? " (reset)" : "");
	fflush(stdout);
	tcp_close(c);
}

static void pattern(uint8_t *buf, unsigned long from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)((from + i) % 251);
}

static int send_pattern(struct tcp_conn *c, unsigned long total)
{
	uint8_t buf[BUF];
	for (unsigned long off = 0; off < total;) {
		size_t k = total - off < BUF ? total - off : BUF;
		pattern(buf, off, k);
		if (tcp_write(c, buf, k, UINT64_MAX) != (int)k)
			return -1;
		off += k;
	}
	return 0;
}

static void sender(void *arg)
{
	struct tcp_conn *c = arg;
	char line[32];
	size_t len = 0;
	/* The request line, one byte at a time so nothing after it is lost. */
	while (len < sizeof line - 1) {
		int n = tcp_read(c, line + len, 1, UINT64_MAX);
		if (n <= 0)
			goto out;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	char *end;
	unsigned long total = strtoul(line, &end, 10);
	if (end == line || (*end && *end != '\r'))
		goto out;
	send_pattern(c, total);
out:
	tcp_close(c);
}

struct service {
	uint16_t port;
	void (*fn)(void *);
	const char *name;
	struct tcp_listener *l;
};

static struct service services[] = {
    {7, echo, "echo", NULL},
    {9, discard, "discard", NULL},
    {19, sender, "sender", NULL},
};

static unsigned long keep[3]; /* --keepalive: idle, interval, probes */

static void acceptor(void *arg)
{
	struct service *s = arg;
	for (;;) {
		struct tcp_conn *c = tcp_accept(s->l, UINT64_MAX, NULL);
		if (!c)
			continue;
		if (keep[0])
			tcp_set_keepalive(c, (uint32_t)keep[0],
					  (uint32_t)keep[1], (unsigned)keep[2]);
		if (sched_spawn(s->fn, c, s->name) < 0)
			tcp_close(c); /* no fiber free: closed at once */
	}
}

/* --connect=ADDR:PORT */
static void connector(void *arg)
{
	const char *spec = arg;
	char addr[16];
	const char *colon = strchr(spec, ':');
	uint32_t ip;
	if (!colon || colon - spec >= (long)sizeof addr)
		goto bad;
	memcpy(addr, spec, colon - spec);
	addr[colon - spec] = '\0';
	unsigned long port = strtoul(colon + 1, NULL, 10);
	if (net_parse_ipv4(addr, &ip) < 0 || !port || port > 65535)
		goto bad;
	int err;
	struct tcp_conn *c =
	    tcp_connect(ip, (uint16_t)port, sched_now() + 10000000000ULL, &err);
	if (!c) {
		printf("tcpecho: connect failed: %s\n", strerror(-err));
		fflush(stdout);
		return;
	}
	const unsigned long total = 100000;
	if (send_pattern(c, total) < 0 || tcp_shutdown(c) < 0) {
		printf("tcpecho: connect send failed\n");
		tcp_close(c);
		return;
	}
	uint8_t buf[BUF];
	unsigned long got = 0;
	uint32_t h = 2166136261u;
	int n;
	while ((n = tcp_read(c, buf, sizeof buf, UINT64_MAX)) > 0) {
		for (int i = 0; i < n; i++)
			h = (h ^ buf[i]) * 16777619u;
		got += (unsigned long)n;
	}
	printf("tcpecho: connect sent %lu got %lu bytes fnv %08x\n", total, got,
	       h);
	fflush(stdout);
	tcp_close(c);
	return;
bad:
	fprintf(stderr, "tcpecho: bad --connect=%s\n", spec);
}

int ingot_main(int argc, char **argv)
{
	const char *connect = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			continue; /* the usual end of options (net.h) */
		if (strncmp(argv[i], "--connect=", 10) == 0) {
			connect = argv[i] + 10;
		} else if (strncmp(argv[i], "--keepalive=", 12) == 0) {
			char *end = argv[i] + 11;
			for (int k = 0; k < 3; k++) {
				if (*end != (k ? ',' : '='))
					goto usage;
				keep[k] = strtoul(end + 1, &end, 10);
			}
			if (*end || !keep[0] || !keep[1] || !keep[2] ||
			    keep[2] > 255)
				goto usage;
		} else if (strncmp(argv[i], "--ipv4", 6) != 0) {
			goto usage;
		}
	}
	if (net_start(argc, argv) < 0)
		return 1;
	for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
		struct service *s = &services[i];
		int err;
		s->l = tcp_listen(s->port, 128, &err);
		if (!s->l) {
			fprintf(stderr, "tcpecho: tcp port %u: %s\n", s->port,
				strerror(-err));
			return 1;
		}
		sched_spawn(acceptor, s, "acceptor");
	}
	printf("tcpecho: serving TCP ports 7 9 19 (%zu bytes per "
	       "connection)\n",
	       tcp_conn_size());
	fflush(stdout);
	if (connect) {
		net_wait_configured(NULL, UINT64_MAX);
		sched_spawn(connector, (void *)connect, "connector");
	}
	return sched_run();
usage:
	fprintf(stderr, "usage: tcpecho [--ipv4=ADDR/PREFIX|dhcp] "
			"[--ipv4-gateway=ADDR] [--connect=ADDR:PORT] "
			"[--keepalive=IDLE_MS,INTVL_MS,PROBES]\n");
	return 2;
}
