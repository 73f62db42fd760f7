/*
 * iperf: a server that Debian's stock iperf3 client (3.12) measures, over
 * TCP: `iperf3 -c GUEST`, with -R (the server sends), -P N (N streams), -t,
 * and the results exchange, so the client prints both sides.
 *
 *   ingot-kvm --net service=TAP build/kvm/iperf.kvm --ipv4=ADDR/PREFIX
 *
 * The iperf3 protocol, as its client speaks it: on a control connection to
 * port 5201 the client sends a 37-byte cookie; the server answers with
 * one-byte states (PARAM_EXCHANGE, then CREATE_STREAMS, TEST_START,
 * TEST_RUNNING, EXCHANGE_RESULTS, DISPLAY_RESULTS), the client with its
 * parameters and results as JSON behind a four-byte length, and TEST_END
 * or IPERF_DONE states.  Data streams are further connections to the same
 * port that start with the same cookie.  One test at a time, as iperf3's
 * own server: a client arriving meanwhile gets ACCESS_DENIED.  UDP, SCTP
 * and --bidir are refused with "not implemented yet".
 *
 * Each test prints its bytes and time per stream.  This guest cannot
 * measure its own CPU use, so it reports 0 for it.
 */
#include <errno.h>
#include <ingot/abi.h>
#include <ingot/net.h>
#include <ingot/sched.h>
#include <ingot/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iperf.h"

INGOT_DEVICE(INGOT_DEVICE_NET, service);

#define PORT        5201
#define COOKIE_SIZE 37
#define STREAMS_MAX 32
#define PARAMS_MAX  4096
#define SLICE_NS    50000000ULL /* how soon a stream notices the test ended */

enum state {
	TEST_START = 1,
	TEST_RUNNING = 2,
	TEST_END = 4,
	PARAM_EXCHANGE = 9,
	CREATE_STREAMS = 10,
	EXCHANGE_RESULTS = 13,
	DISPLAY_RESULTS = 14,
	IPERF_DONE = 16,
	ACCESS_DENIED = -1,
	SERVER_ERROR = -2,
};
#define IEUNIMP 13 /* iperf3's "not implemented yet" */

struct stream {
	struct tcp_conn *conn;
	unsigned id;
	uint64_t bytes;
};

static struct {
	bool active;    /* a control connection owns the test */
	bool accepting; /* streams may join */
	bool running, ended;
	char cookie[COOKIE_SIZE];
	struct iperf_params params;
	struct stream streams[STREAMS_MAX];
	unsigned nstreams, live; /* joined; still running their loop */
	uint64_t start_ns, end_ns;
	struct sched_waitq changed;
} test;

/* Source of the data the server sends (-R): never written. */
static const uint8_t zeros[16384];

static int read_all(struct tcp_conn *c, void *buf, size_t n, uint64_t deadline)
{
	for (size_t got = 0; got < n;) {
		int r = tcp_read(c, (uint8_t *)buf + got, n - got, deadline);
		if (r <= 0)
			return r < 0 ? r : -ECONNRESET;
		got += (size_t)r;
	}
	return 0;
}

static int send_state(struct tcp_conn *c, signed char state)
{
	return tcp_write(c, &state, 1, UINT64_MAX) == 1 ? 0 : -EPIPE;
}

static int send_json(struct tcp_conn *c, const char *json, size_t len)
{
	uint8_t head[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16),
			   (uint8_t)(len >> 8), (uint8_t)len};
	if (tcp_write(c, head, 4, UINT64_MAX) != 4 ||
	    tcp_write(c, json, len, UINT64_MAX) != (int)len)
		return -EPIPE;
	return 0;
}

/* Reads a length-prefixed JSON object into buf (cap bytes): its length,
 * or a negative error (-EMSGSIZE if longer than cap). */
static int read_json(struct tcp_conn *c, char *buf, size_t cap,
		     uint64_t deadline)
{
	uint8_t head[4];
	int rc = read_all(c, head, 4, deadline);
	if (rc < 0)
		return rc;
	size_t len = (size_t)head[0] << 24 | (size_t)head[1] << 16 |
		     (size_t)head[2] << 8 | head[3];
	if (len > cap)
		return -EMSGSIZE;
	rc = read_all(c, buf, len, deadline);
	return rc < 0 ? rc : (int)len;
}

/* The data loop of one stream: receive (or send, -R) until the test ends. */
static void stream_run(struct stream *s)
{
	size_t block =
	    test.params.len > 0 && test.params.len < (long)sizeof zeros
		? (size_t)test.params.len
		: sizeof zeros;

	while (!test.ended) {
		uint64_t slice = sched_now() + SLICE_NS;
		int n;
		/* Neither way copies: the zeros are sent from where they
		 * lie, and what is received is counted, not looked at. */
		if (test.params.reverse) {
			n = tcp_write_static(s->conn, zeros, block, slice);
		} else {
			struct pkt *p = tcp_read_pkt(s->conn, slice, &n);
			if (p) {
				n = (int)p->len;
				pkt_free(p);
			}
		}
		if (n > 0)
			s->bytes += (uint64_t)n;
		else if (n != -ETIMEDOUT)
			break; /* the client went away */
	}
}

static void stream_fiber(void *arg)
{
	struct stream *s = arg;
	while (!test.running && !test.ended)
		sched_wait(&test.changed, UINT64_MAX);
	if (!test.ended)
		stream_run(s);
	test.live--;
	sched_wake_all(&test.changed);
}

static unsigned stream_id(unsigned index)
{
	return index ? index + 2 : 1; /* iperf3 numbers streams 1, 3, 4, ... */
}

/* Both sides' results as iperf3's client reads them. */
static size_t results_json(char *buf, size_t cap)
{
	uint64_t t = test.end_ns - test.start_ns;
	size_t n = (size_t)snprintf(
	    buf, cap,
	    "{\"cpu_util_total\":0,\"cpu_util_user\":0,\"cpu_util_system\":0,"
	    "\"sender_has_retransmits\":%d,\"streams\":[",
	    test.params.reverse ? 0 : -1);
	for (unsigned i = 0; i < test.nstreams && n < cap; i++)
		n += (size_t)snprintf(
		    buf + n, cap - n,
		    "%s{\"id\":%u,\"bytes\":%llu,\"retransmits\":-1,"
		    "\"jitter\":0,\"errors\":0,\"packets\":0,"
		    "\"start_time\":0,\"end_time\":%llu.%06llu}",
		    i ? "," : "", test.streams[i].id,
		    (unsigned long long)test.streams[i].bytes,
		    (unsigned long long)(t / 1000000000ULL),
		    (unsigned long long)(t % 1000000000ULL / 1000));
	if (n < cap)
		n += (size_t)snprintf(buf + n, cap - n, "]}");
	return n < cap ? n : 0;
}

static void report(void)
{
	uint64_t t = test.end_ns - test.start_ns, total = 0;
	for (unsigned i = 0; i < test.nstreams; i++) {
		total += test.streams[i].bytes;
		printf("iperf: stream %u %s %llu bytes\n", test.streams[i].id,
		       test.params.reverse ? "sent" : "received",
		       (unsigned long long)test.streams[i].bytes);
	}
	printf("iperf: test of %u streams, %llu bytes in %llu ms, %llu "
	       "Mbit/s\n",
	       test.nstreams, (unsigned long long)total,
	       (unsigned long long)(t / 1000000),
	       (unsigned long long)(t ? total * 8 * 1000 / t : 0));
	fflush(stdout);
}

/* Ends the streams, as iperf3's server does at TEST_END: a client that
 * receives (-R) reads on until it sees the end of each stream. */
static void close_streams(void)
{
	test.ended = true;
	sched_wake_all(&test.changed);
	while (test.live)
		sched_wait(&test.changed, UINT64_MAX);
	for (unsigned i = 0; i < test.nstreams; i++)
		if (test.streams[i].conn) {
			tcp_close(test.streams[i].conn);
			test.streams[i].conn = NULL;
		}
}

/* Runs one test on its control connection, up to the results. */
static int control(struct tcp_conn *c)
{
	static char json[PARAMS_MAX];
	uint64_t deadline = sched_now() + 30 * 1000000000ULL;

	if (send_state(c, PARAM_EXCHANGE) < 0)
		return -EPIPE;
	int n = read_json(c, json, sizeof json, deadline);
	if (n < 0 || iperf_parse_params(json, (size_t)n, &test.params) < 0)
		return -EPROTO;
	if (test.params.not_tcp || test.params.bidirectional ||
	    test.params.parallel < 1 || test.params.parallel > STREAMS_MAX) {
		uint8_t err[9] = {(uint8_t)SERVER_ERROR, 0, 0, 0, IEUNIMP};
		tcp_write(c, err, sizeof err, UINT64_MAX);
		printf("iperf: refused a test (only TCP, 1..%d streams, no "
		       "--bidir)\n",
		       STREAMS_MAX);
		return -EPROTO;
	}
	test.accepting = true;
	if (send_state(c, CREATE_STREAMS) < 0)
		return -EPIPE;
	while (test.nstreams < (unsigned)test.params.parallel)
		if (sched_wait(&test.changed, deadline) < 0)
			return -ETIMEDOUT;
	test.accepting = false;
	if (send_state(c, TEST_START) < 0 || send_state(c, TEST_RUNNING) < 0)
		return -EPIPE;
	test.start_ns = sched_now();
	test.running = true;
	sched_wake_all(&test.changed);
	printf("iperf: test started: %u streams, the server %s\n",
	       test.nstreams, test.params.reverse ? "sending" : "receiving");
	fflush(stdout);

	signed char state;
	if (read_all(c, &state, 1, UINT64_MAX) < 0 || state != TEST_END)
		return -EPROTO;
	test.end_ns = sched_now();
	test.ended = true;
	sched_wake_all(&test.changed);
	close_streams();
	report();

	deadline = sched_now() + 30 * 1000000000ULL;
	if (send_state(c, EXCHANGE_RESULTS) < 0 ||
	    read_json(c, json, sizeof json, deadline) < 0)
		return -EPROTO; /* the client's results: printed by it */
	size_t len = results_json(json, sizeof json);
	if (!len || send_json(c, json, len) < 0 ||
	    send_state(c, DISPLAY_RESULTS) < 0)
		return -EPIPE;
	read_all(c, &state, 1, deadline); /* IPERF_DONE, or the close */
	return 0;
}

static void end_test(void)
{
	close_streams();
	memset(&test, 0, sizeof test);
}

/* Every new connection: a control connection if no test runs, a stream
 * if it brings the running test's cookie, else turned away. */
static void connection(void *arg)
{
	struct tcp_conn *c = arg;
	char cookie[COOKIE_SIZE];

	if (read_all(c, cookie, sizeof cookie,
		     sched_now() + 10 * 1000000000ULL) < 0) {
		tcp_close(c);
		return;
	}
	if (test.accepting && memcmp(cookie, test.cookie, sizeof cookie) == 0 &&
	    test.nstreams < (unsigned)test.params.parallel) {
		struct stream *s = &test.streams[test.nstreams];
		*s = (struct stream){.conn = c, .id = stream_id(test.nstreams)};
		test.nstreams++;
		test.live++;
		sched_wake_all(&test.changed);
		stream_fiber(s); /* closed by the control connection */
		return;
	}
	if (test.active) {
		send_state(c, ACCESS_DENIED);
		tcp_close(c);
		return;
	}
	test.active = true;
	memcpy(test.cookie, cookie, sizeof cookie);
	if (control(c) < 0)
		printf("iperf: a test ended early\n");
	tcp_close(c);
	end_test();
}

int ingot_main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") != 0 /* net.h */ &&
		    strncmp(argv[i], "--ipv4", 6) != 0) {
			fprintf(stderr,
				"usage: iperf [--ipv4=ADDR/PREFIX|dhcp] "
				"[--ipv4-gateway=ADDR]\n");
			return 2;
		}
	if (net_start(argc, argv) < 0)
		return 1;
	int err;
	struct tcp_listener *l = tcp_listen(PORT, STREAMS_MAX + 2, &err);
	if (!l) {
		fprintf(stderr, "iperf: tcp port %d: %s\n", PORT,
			strerror(-err));
		return 1;
	}
	printf("iperf: serving TCP port %d\n", PORT);
	fflush(stdout);
	for (;;) {
		struct tcp_conn *c = tcp_accept(l, UINT64_MAX, NULL);
		if (c && sched_spawn(connection, c, "iperf") < 0)
			tcp_close(c); /* no fiber free: turned away */
	}
}
