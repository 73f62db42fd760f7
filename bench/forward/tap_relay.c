/*
 * bench/forward's floor for a forwarder behind taps: a relay of Ethernet
 * frames between two existing taps, with nothing else in between (no
 * guest, no exits, no checks).  One thread spins on non-blocking read()
 * and write(), so a frame is never waiting for a wake-up: the least that
 * any forwarder which gets its frames from a tap and gives them to another
 * adds to a round trip on this kernel.
 *
 *   tap_relay NETNS_A TAP_A NETNS_B TAP_B   (prints "relaying" when
 *                                            attached; runs until killed)
 *
 * Each tap is attached from its namespace (/run/netns/NAME), where the
 * benchmark has moved it; the taps must be persistent (ip tuntap add).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int attach(const char *netns, const char *tap)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "/run/netns/%s", netns);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
		fprintf(stderr, "tap_relay: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(ns);
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", tap);
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "tap_relay: %s in %s: %s\n", tap, netns,
			strerror(errno));
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr,
			"usage: tap_relay NETNS_A TAP_A NETNS_B TAP_B\n");
		return 2;
	}
	int fd[2] = {attach(argv[1], argv[2]), attach(argv[3], argv[4])};
	puts("relaying");
	fflush(stdout);

	static char frame[65536];
	for (;;)
		for (int i = 0; i < 2; i++) {
			ssize_t n = read(fd[i], frame, sizeof frame);
			/* A frame the other tap refuses is dropped, as a
			 * forwarder with a full queue would. */
			if (n > 0 && write(fd[!i], frame, (size_t)n) < 0 &&
			    errno != EAGAIN)
				perror("tap_relay: write");
		}
}
