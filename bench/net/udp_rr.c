/*
 * UDP request/response load: keeps WINDOW datagrams of SIZE bytes in flight
 * to an echo server for SECONDS, and prints the round trips per second and
 * the round-trip latency (median, p99) of the replies.
 *   udp_rr ADDR PORT SIZE SECONDS WINDOW
 * from source port 40007 always, so that a server that serves one peer
 * (socat UDP-LISTEN) serves every run.  A datagram not answered within 200 ms
 * is counted lost and replaced.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOST_NS 200000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr,
			"usage: udp_rr ADDR PORT SIZE SECONDS WINDOW\n");
		return 2;
	}
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(atoi(argv[2]))};
	size_t size = strtoul(argv[3], NULL, 10);
	double seconds = atof(argv[4]);
	unsigned window = atoi(argv[5]);
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || size < 16 ||
	    size > 65507 || seconds <= 0 || !window || window > 1024) {
		fprintf(stderr, "udp_rr: bad arguments\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
	struct sockaddr_in from = {.sin_family = AF_INET,
				   .sin_port = htons(40007)};
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof from) < 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
		perror("udp_rr: socket");
		return 1;
	}
	size_t cap = 1 << 24;
	uint32_t *lat = malloc(cap * sizeof *lat);
	uint64_t *sent_at = calloc(window, sizeof *sent_at);
	unsigned char *buf = calloc(1, 65536);
	size_t n = 0;
	uint64_t lost = 0, seq = 0;

	uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
	/* Slot i of the window carries sequence numbers = i mod window. */
	for (unsigned i = 0; i < window; i++, seq++) {
		memcpy(buf, &seq, 8);
		sent_at[i] = now_ns();
		send(fd, buf, size, 0);
	}
	for (;;) {
		uint64_t t = now_ns();
		if (t >= end)
			break;
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 50) == 0) {
			/* Replace what is overdue. */
			for (unsigned i = 0; i < window; i++)
				if (now_ns() - sent_at[i] > LOST_NS) {
					lost++;
					uint64_t s =
					    seq++ / window * window + i;
					memcpy(buf, &s, 8);
					sent_at[i] = now_ns();
					send(fd, buf, size, 0);
				}
			continue;
		}
		ssize_t r = recv(fd, buf, 65536, MSG_DONTWAIT);
		if (r < 8)
			continue;
		uint64_t s;
		memcpy(&s, buf, 8);
		unsigned i = s % window;
		t = now_ns();
		if (n < cap)
			lat[n++] =
			    (uint32_t)((t - sent_at[i]) / 100); /* 0.1 us */
		s += window;
		memcpy(buf, &s, 8);
		sent_at[i] = now_ns();
		send(fd, buf, size, 0);
	}
	double elapsed = (now_ns() - start) / 1e9;
	qsort(lat, n, sizeof *lat, cmp);
	printf(
	    "round_trips=%zu rate=%.0f median_us=%.1f p99_us=%.1f lost=%lu\n",
	    n, n / elapsed, n ? lat[n / 2] / 10.0 : 0.0,
	    n ? lat[(size_t)(n * 0.99)] / 10.0 : 0.0, (unsigned long)lost);
	return n ? 0 : 1;
}
