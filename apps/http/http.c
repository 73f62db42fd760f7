/*
 * http: a static web server (RFC 9110, RFC 9112) for a site compiled into
 * the image by tools/dir2c (make WEBROOT=dir), and for the files of a tar
 * archive on the block device "site" (disk.c), which win over the image's
 * where both have a path.  A malformed archive stops it at start, with
 * the offset of the bad header.
 *
 *   ingot-kvm --mem 256M --net service=TAP [--block site=site.tar,ro]
 *       build/kvm/http.kvm --ipv4=ADDR/PREFIX [--port=N] [--idle-ms=MS]
 *       [--header-ms=MS] [--send-ms=MS] [--linger-ms=MS]
 *
 * A fiber per connection (conn.c), up to CONFIG_HTTP_CONNS; past them a
 * connection is answered 503 by one of CONFIG_HTTP_REFUSERS fibers, or
 * closed when they are busy too.  The counters print at exit and on
 * SIGUSR1.
 */
#include <errno.h>
#include <ingot/net.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_app.h"

INGOT_DEVICE(INGOT_DEVICE_NET, service);
INGOT_DEVICE(INGOT_DEVICE_BLOCK, site);

_Static_assert(CONFIG_SCHED_FIBERS_MAX >=
		   CONFIG_HTTP_CONNS + CONFIG_HTTP_REFUSERS + 3,
	       "CONFIG_SCHED_FIBERS_MAX: a fiber per connection and refusal, "
	       "main, the acceptor and DHCP's");

#define MS 1000000ULL

struct http_config http_cfg = {
    .port = CONFIG_HTTP_PORT,
    .idle_ns = CONFIG_HTTP_IDLE_MS * MS,
    .header_ns = CONFIG_HTTP_HEADER_MS * MS,
    .send_ns = CONFIG_HTTP_SEND_MS * MS,
    .linger_ns = CONFIG_HTTP_LINGER_MS * MS,
};

static void acceptor(void *arg)
{
	struct tcp_listener *l = arg;
	for (;;) {
		struct tcp_conn *tc = tcp_accept(l, UINT64_MAX, NULL);
		if (!tc)
			continue;
		if (http_count.conns_open < CONFIG_HTTP_CONNS &&
		    sched_spawn(http_serve, tc, "http") > 0) {
			http_count.conns_accepted++;
			if (++http_count.conns_open > http_count.conns_peak)
				http_count.conns_peak = http_count.conns_open;
			continue;
		}
		http_count.conns_refused++;
		if (http_refusing < CONFIG_HTTP_REFUSERS &&
		    sched_spawn(http_refuse, tc, "http-refuse") > 0) {
			http_refusing++;
			continue;
		}
		http_count.conns_dropped++;
		tcp_close(tc);
	}
}

/* --NAME=N: true with *v set if arg is that option (N a positive integer
 * below max). */
static bool option(const char *arg, const char *name, unsigned long max,
		   unsigned long *v, bool *bad)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n) != 0 || arg[n] != '=')
		return false;
	char *end;
	*v = strtoul(arg + n + 1, &end, 10);
	if (end == arg + n + 1 || *end || *v > max)
		*bad = true;
	return true;
}

static int usage(void)
{
	fprintf(stderr, "usage: http [--ipv4=ADDR/PREFIX|dhcp] "
			"[--ipv4-gateway=ADDR] [--port=N] [--idle-ms=MS] "
			"[--header-ms=MS] [--send-ms=MS] [--linger-ms=MS]\n");
	return 2;
}

int ingot_main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		unsigned long v = 0;
		bool bad = false;
		const char *a = argv[i];
		if (strcmp(a, "--") == 0 || strncmp(a, "--ipv4", 6) == 0)
			continue; /* net_start's */
		if (option(a, "--port", 65535, &v, &bad))
			http_cfg.port = (uint16_t)v;
		else if (option(a, "--idle-ms", 86400000, &v, &bad))
			http_cfg.idle_ns = v * MS;
		else if (option(a, "--header-ms", 86400000, &v, &bad))
			http_cfg.header_ns = v * MS;
		else if (option(a, "--send-ms", 86400000, &v, &bad))
			http_cfg.send_ns = v * MS;
		else if (option(a, "--linger-ms", 86400000, &v, &bad))
			http_cfg.linger_ns = v * MS;
		else
			return usage();
		if (bad || (!v && strncmp(a, "--linger-ms", 11) != 0))
			return usage();
	}
	if (http_disk_mount() < 0)
		return 1;
	if (net_start(argc, argv) < 0)
		return 1;
	int err;
	struct tcp_listener *l = tcp_listen(http_cfg.port, 1024, &err);
	if (!l) {
		fprintf(stderr, "http: tcp port %u: %s\n", http_cfg.port,
			strerror(-err));
		return 1;
	}
	atexit(http_print_counters);
	sched_on_report(http_print_counters);
	sched_spawn(acceptor, l, "http-accept");
	printf("http: serving %u files on port %u (%u connections, %zu "
	       "bytes of TCP state each)\n",
	       http_nfiles, http_cfg.port, CONFIG_HTTP_CONNS, tcp_conn_size());
	fflush(stdout);
	return sched_run();
}
