/*
 * bench/forward's sink: counts the sender's datagrams (udp_flood.c) of
 * SIZE payload bytes arriving on PORT, with recvmmsg in batches, until
 * SIGTERM or SIGINT.
 *
 *   udp_sink PORT SIZE      (prints "ready" once bound)
 *
 * At the end it prints "packets=N other=N span_s=S per_second=A,B,...":
 * the datagrams counted, anything else that arrived, the time from the
 * first counted to the last, and the count in each second from the first.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "flood.h"

#define BATCH       64
#define SECONDS_MAX 120

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	char *end;
	if (argc != 3 || !(addr.sin_port = htons(strtoul(argv[1], &end, 10))) ||
	    *end) {
		fprintf(stderr, "usage: udp_sink PORT SIZE\n");
		return 2;
	}
	size_t size = strtoul(argv[2], NULL, 10);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	/* Room for a burst: a sink that falls behind for a moment should
	 * not count as the forwarder's loss (RcvbufErrors tells if it did). */
	int rcvbuf = 64 << 20;
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) <
		0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("udp_sink: socket");
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);

	static unsigned char bufs[BATCH][2048];
	static uint64_t per_second[SECONDS_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t packets = 0, other = 0, first = 0, last = 0;
	while (!stop) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
			msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i],
							  .msg_iovlen = 1};
		}
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("udp_sink: recvmmsg");
			return 1;
		}
		uint64_t t = now_ns();
		for (int i = 0; i < n; i++) {
			struct flood_tag tag;
			memcpy(&tag, bufs[i], sizeof tag);
			if (msgs[i].msg_len != size ||
			    msgs[i].msg_hdr.msg_flags & MSG_TRUNC ||
			    tag.magic != FLOOD_MAGIC) {
				other++;
				continue;
			}
			if (!packets++)
				first = t;
			last = t;
			uint64_t s = (t - first) / 1000000000ULL;
			if (s < SECONDS_MAX)
				per_second[s]++;
		}
	}
	printf("packets=%llu other=%llu span_s=%.6f per_second=",
	       (unsigned long long)packets, (unsigned long long)other,
	       (last - first) / 1e9);
	uint64_t seconds = packets ? (last - first) / 1000000000ULL + 1 : 0;
	for (uint64_t s = 0; s < seconds && s < SECONDS_MAX; s++)
		printf("%s%llu", s ? "," : "",
		       (unsigned long long)per_second[s]);
	printf("\n");
	return 0;
}
