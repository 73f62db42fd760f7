/*
 * bench/forward's sender: UDP datagrams of SIZE payload bytes to ADDR:PORT
 * in batches of sendmmsg, until COUNT have gone or SECONDS have passed,
 * as fast as the socket takes them or, given RATE, at RATE per second.
 *
 *   udp_flood ADDR PORT SIZE SECONDS COUNT [RATE]
 *
 * Each datagram starts with a tag and its sequence number, so that the
 * sink (udp_sink.c) counts only what this run sent.  Prints
 * "sent=N errors=N seconds=S rate=R": datagrams the kernel accepted, sends
 * it refused (a full device queue: ENOBUFS), and the sending time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "flood.h"

#define BATCH 32

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {t / 1000000000ULL, t % 1000000000ULL};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

int main(int argc, char **argv)
{
	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: udp_flood ADDR PORT SIZE SECONDS "
				"COUNT [RATE]\n");
		return 2;
	}
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(atoi(argv[2]))};
	size_t size = strtoul(argv[3], NULL, 10);
	double seconds = atof(argv[4]);
	uint64_t count = strtoull(argv[5], NULL, 10);
	double rate = argc == 7 ? atof(argv[6]) : 0;
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 ||
	    size < sizeof(struct flood_tag) || size > 65507 || seconds <= 0 ||
	    seconds > 60 || !count || rate < 0) {
		fprintf(stderr, "udp_flood: bad arguments\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
		perror("udp_flood: socket");
		return 1;
	}
	/* Paced batches wake on time, not 50 us late. */
	prctl(PR_SET_TIMERSLACK, 1UL);

	static unsigned char bufs[BATCH][65536];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){bufs[i], size};
		msgs[i].msg_hdr =
		    (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	/* At a set rate, batches small enough to come every 20 us or more. */
	unsigned batch = BATCH;
	if (rate > 0 && rate * 20e-6 < BATCH)
		batch = rate * 20e-6 < 1 ? 1 : (unsigned)(rate * 20e-6);

	uint64_t sent = 0, errors = 0, seq = 0;
	uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t t = now_ns();
		if (t >= end || sent >= count)
			break;
		if (rate > 0) {
			uint64_t due = start + (uint64_t)(seq / rate * 1e9);
			if (due > end)
				break;
			if (due > t)
				sleep_until(due);
		}
		unsigned n = batch;
		if (count - sent < n)
			n = count - sent;
		for (unsigned i = 0; i < n; i++) {
			struct flood_tag tag = {FLOOD_MAGIC, seq + i};
			memcpy(bufs[i], &tag, sizeof tag);
		}
		int m = sendmmsg(fd, msgs, n, 0);
		if (m < 0) {
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != EINTR) {
				perror("udp_flood: sendmmsg");
				return 1;
			}
			errors++;
			m = 1; /* the first of the batch was refused */
		} else {
			sent += m;
		}
		seq += m;
	}
	double elapsed = (now_ns() - start) / 1e9;
	printf("sent=%llu errors=%llu seconds=%.3f rate=%.0f\n",
	       (unsigned long long)sent, (unsigned long long)errors, elapsed,
	       sent / elapsed);
	return 0;
}
