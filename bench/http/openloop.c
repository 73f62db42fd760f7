/*
 * bench/http's open-loop client: GET requests for one path at a fixed
 * rate whatever the answers do.  Request i is due at t0 + i / RATE and
 * goes on keep-alive connection i % CONNS, pipelined behind the ones
 * still unanswered there, so a slow server shows as latency rather than
 * as a lower sending rate (the coordinated omission of a closed loop such
 * as wrk's).  A request's latency runs from the time it was due, not the
 * time it could be sent.
 *
 *   openloop ADDR PORT PATH RATE SECONDS CONNS
 *
 * The first second is a warm-up; the requests due in the SECONDS after it
 * are the ones measured.  Answers are awaited until 2 s after the last
 * request was due; one never answered is lost, and counts as infinitely
 * slow in the percentiles (printed as -1 when one falls among the lost).
 * A connection the server closes (nginx's keepalive_requests, an error)
 * is opened again and its unanswered requests sent again, still timed
 * from when they were due.  Prints one line of key=value pairs, times in
 * microseconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WARMUP_NS  1000000000ull
#define DRAIN_NS   2000000000ull
#define DEPTH      1024 /* requests unanswered per connection */
#define HEAD_MAX   8192
#define REQ_COPIES 64
#define LOST       UINT64_MAX

struct conn {
	int fd;
	bool connecting;      /* a non-blocking connect under way */
	bool want_out;        /* EPOLLOUT is armed */
	uint64_t ring[DEPTH]; /* indices of unanswered requests, in order */
	uint32_t head, n;
	size_t pending; /* request bytes still to write */
	/* the answer being read */
	char hd[HEAD_MAX];
	size_t hlen;
	uint64_t body_left;
	bool in_body, close_after, bad_status;
};

static struct sockaddr_in addr = {.sin_family = AF_INET};
static char reqs[REQ_COPIES * 512];
static size_t reqlen;
static struct conn *conns;
static int nconns, ep;
static uint64_t *lat; /* per request: ns from due to answer, or LOST */
static uint64_t t0, interval_ps; /* picoseconds between requests */
static unsigned long errors, reconnects, overflows;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t due(uint64_t i)
{
	return t0 + (uint64_t)((unsigned __int128)i * interval_ps / 1000);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void arm(struct conn *c, bool out)
{
	if (c->want_out == out)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0),
				 .data.ptr = c};
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev))
		die("epoll_ctl");
	c->want_out = out;
}

/* Opens c's socket; its unanswered requests go again once connected. */
static void open_conn(struct conn *c)
{
	int one = 1;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) &&
	    errno != EINPROGRESS)
		die("connect");
	c->connecting = true;
	c->want_out = true;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
		die("epoll_ctl");
	c->pending = (size_t)c->n * reqlen;
	c->hlen = 0;
	c->in_body = c->close_after = c->bad_status = false;
}

static void reopen(struct conn *c)
{
	close(c->fd);
	reconnects++;
	open_conn(c);
}

static void flush(struct conn *c)
{
	while (c->pending) {
		/* Every request is the same bytes: write from the copy that
		 * starts where the pending bytes do. */
		size_t off = (reqlen - c->pending % reqlen) % reqlen;
		size_t k = REQ_COPIES * reqlen - off;
		if (k > c->pending)
			k = c->pending;
		ssize_t w = write(c->fd, reqs + off, k);
		if (w < 0) {
			if (errno == EAGAIN)
				break;
			reopen(c);
			return;
		}
		c->pending -= (size_t)w;
	}
	arm(c, c->pending != 0);
}

static void send_request(uint64_t i)
{
	struct conn *c = &conns[i % (uint64_t)nconns];
	if (c->n == DEPTH) {
		overflows++; /* never sent: stays LOST */
		return;
	}
	c->ring[(c->head + c->n++) % DEPTH] = i;
	c->pending += reqlen;
	if (!c->connecting)
		flush(c);
}

/* The head in c->hd is whole (hlen bytes): status and framing. */
static bool parse_head(struct conn *c)
{
	if (c->hlen < 12 || memcmp(c->hd, "HTTP/1.", 7) != 0)
		return false;
	c->bad_status = c->hd[9] != '2' && c->hd[9] != '3';
	bool have_len = false;
	for (char *l = memchr(c->hd, '\n', c->hlen); l && l < c->hd + c->hlen;
	     l = memchr(l, '\n', (size_t)(c->hd + c->hlen - l))) {
		l++;
		if (!strncasecmp(l, "content-length:", 15)) {
			c->body_left = strtoull(l + 15, NULL, 10);
			have_len = true;
		} else if (!strncasecmp(l, "connection:", 11)) {
			char *v = l + 11;
			while (*v == ' ')
				v++;
			c->close_after = !strncasecmp(v, "close", 5);
		}
	}
	return have_len;
}

static void answered(struct conn *c, uint64_t now)
{
	uint64_t i = c->ring[c->head];
	c->head = (c->head + 1) % DEPTH;
	c->n--;
	lat[i] = now - due(i);
	if (c->bad_status)
		errors++;
	c->hlen = 0;
	c->in_body = false;
}

/* Takes n received bytes; false when the connection must be opened
 * again (the server said close, or sent what is no answer). */
static bool receive(struct conn *c, const char *p, size_t n, uint64_t now)
{
	while (n) {
		if (c->in_body) {
			size_t k = c->body_left < n ? (size_t)c->body_left : n;
			c->body_left -= k;
			p += k;
			n -= k;
		} else {
			size_t k =
			    HEAD_MAX - c->hlen < n ? HEAD_MAX - c->hlen : n;
			size_t from = c->hlen > 3 ? c->hlen - 3 : 0;
			memcpy(c->hd + c->hlen, p, k);
			char *end = memmem(c->hd + from, c->hlen + k - from,
					   "\r\n\r\n", 4);
			if (!end) {
				if (c->hlen + k == HEAD_MAX)
					return false;
				c->hlen += k;
				return true;
			}
			size_t used = (size_t)(end + 4 - c->hd) - c->hlen;
			c->hlen += used;
			p += used;
			n -= used;
			if (!c->n || !parse_head(c))
				return false;
			c->in_body = true;
		}
		if (c->in_body && !c->body_left) {
			bool close_after = c->close_after;
			answered(c, now);
			if (close_after)
				return false;
		}
	}
	return true;
}

static void readable(struct conn *c, uint64_t now)
{
	static char buf[256 * 1024];
	for (;;) {
		ssize_t r = read(c->fd, buf, sizeof buf);
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0 || !receive(c, buf, (size_t)r, now)) {
			reopen(c);
			return;
		}
		if ((size_t)r < sizeof buf)
			return;
	}
}

static void writable(struct conn *c)
{
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			/* Refused or timed out: what was queued is lost. */
			errors++;
			c->n = c->head = 0;
			reopen(c);
			return;
		}
		c->connecting = false;
	}
	flush(c);
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, uint64_t n, double p)
{
	uint64_t k = (uint64_t)(p * (double)n);
	if (k >= n)
		k = n - 1;
	return v[k] == LOST ? -1 : (double)v[k] / 1000;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr,
			"usage: openloop ADDR PORT PATH RATE SECONDS CONNS\n");
		return 2;
	}
	double rate = atof(argv[4]), secs = atof(argv[5]);
	nconns = atoi(argv[6]);
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 || rate <= 0 ||
	    secs <= 0 || nconns <= 0) {
		fprintf(stderr, "openloop: bad arguments\n");
		return 2;
	}
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	int k = snprintf(reqs, 512, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n",
			 argv[3], argv[1]);
	if (k <= 0 || k >= 512) {
		fprintf(stderr, "openloop: path too long\n");
		return 2;
	}
	reqlen = (size_t)k;
	for (int j = 1; j < REQ_COPIES; j++)
		memcpy(reqs + (size_t)j * reqlen, reqs, reqlen);

	uint64_t warm = (uint64_t)(rate * WARMUP_NS / 1e9);
	uint64_t total = warm + (uint64_t)(rate * secs);
	lat = malloc(total * sizeof *lat);
	conns = calloc((size_t)nconns, sizeof *conns);
	ep = epoll_create1(0);
	if (!lat || !conns || ep < 0)
		die("openloop");
	for (uint64_t i = 0; i < total; i++)
		lat[i] = LOST;
	for (int j = 0; j < nconns; j++)
		open_conn(&conns[j]);

	interval_ps = (uint64_t)(1e12 / rate);
	t0 = now_ns() + 100000000ull; /* the connections open meanwhile */
	uint64_t next = 0, end = due(total) + DRAIN_NS, answered_all = 0;
	struct epoll_event evs[256];
	for (;;) {
		uint64_t now = now_ns();
		while (next < total && due(next) <= now)
			send_request(next++);
		if (now >= end)
			break;
		if (next == total) {
			uint64_t open = 0;
			for (int j = 0; j < nconns; j++)
				open += conns[j].n;
			if (!open)
				break;
		}
		uint64_t wake = next < total ? due(next) : end;
		struct timespec ts = {(time_t)((wake - now) / 1000000000ull),
				      (long)((wake - now) % 1000000000ull)};
		int n = epoll_pwait2(ep, evs, 256, &ts, NULL);
		if (n < 0 && errno != EINTR)
			die("epoll_pwait2");
		now = now_ns();
		for (int j = 0; j < n; j++) {
			struct conn *c = evs[j].data.ptr;
			if (evs[j].events & (EPOLLOUT | EPOLLERR))
				writable(c);
			if (evs[j].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				readable(c, now);
		}
	}

	uint64_t m = total - warm, *v = lat + warm, lost = 0;
	qsort(v, m, sizeof *v, cmp);
	for (uint64_t i = 0; i < m; i++)
		lost += v[i] == LOST;
	answered_all = m - lost;
	printf("offered=%.0f answered=%.0f due=%llu lost=%llu errors=%lu "
	       "reconnects=%lu overflows=%lu p50=%.1f p90=%.1f p99=%.1f "
	       "p999=%.1f max=%.1f\n",
	       rate, (double)answered_all / secs, (unsigned long long)m,
	       (unsigned long long)lost, errors, reconnects, overflows,
	       pct(v, m, 0.5), pct(v, m, 0.9), pct(v, m, 0.99),
	       pct(v, m, 0.999), pct(v, m, 1.0));
	return 0;
}
