/*
 * bench/net's Linux peer: a UDP echo server that moves datagrams in
 * batches, as the guest does (recvmmsg: whatever has arrived, up to BATCH,
 * then one sendmmsg of all the replies), so that the comparison is with
 * the best a Linux process can do rather than one datagram per system call.
 *
 *   udp_echo PORT     (prints "serving" once bound, then echoes until killed)
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH        64
#define DATAGRAM_MAX 65536

static unsigned char bufs[BATCH][DATAGRAM_MAX];

int main(int argc, char **argv)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	struct sockaddr_in addr = {.sin_family = AF_INET};
	char *end;

	if (argc != 2 || !(addr.sin_port = htons(strtoul(argv[1], &end, 10))) ||
	    *end) {
		fprintf(stderr, "usage: udp_echo PORT\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("udp_echo: socket");
		return 1;
	}
	printf("serving\n");
	fflush(stdout);
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){bufs[i], DATAGRAM_MAX};
			msgs[i].msg_hdr = (struct msghdr){
			    .msg_name = &from[i],
			    .msg_namelen = sizeof from[i],
			    .msg_iov = &iov[i],
			    .msg_iovlen = 1,
			};
		}
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("udp_echo: recvmmsg");
			return 1;
		}
		for (int i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		for (int sent = 0; sent < n;) {
			int m = sendmmsg(fd, msgs + sent, n - sent, 0);
			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0)
				break; /* dropped, as a full queue would */
			sent += m;
		}
	}
}
