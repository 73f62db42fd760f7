/*
 * The backends of network devices: an existing tap device, or a UDP socket
 * on 127.0.0.1.  Frames go out with write and come in with readv (a spill
 * byte tells a frame longer than the guest's buffer), non-blocking.
 */
#include <errno.h>
#include <string.h>

#include "msg.h"
#include "net_dev.h"
#include "sys.h"

static _Noreturn void fail(const struct host_net_dev *d, const char *what,
			   long err)
{
	if (err)
		host_fail("--net %s=%s: %s: %s", d->name, d->backend, what,
			  strerror((int)-err));
	host_fail("--net %s=%s: %s", d->name, d->backend, what);
}

static _Noreturn void no_such_tap(const struct host_net_dev *d)
{
	host_fail("--net %s=%s: there is no tap device %s (ingot attaches to "
		  "an existing one: ip tuntap add dev %s mode tap)",
		  d->name, d->backend, d->backend, d->backend);
}

/* Whether a network device of that name exists (in this namespace), asked
 * without creating one, as TUNSETIFF would. */
static bool device_exists(const struct host_net_dev *d)
{
	struct kernel_ifreq ifr = {0};
	long s = syscall3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail(d, "socket", s);
	memcpy(ifr.name, d->backend, strlen(d->backend));
	long rc = syscall3(SYS_ioctl, s, SIOCGIFINDEX, &ifr);
	syscall3(SYS_close, s, 0, 0);
	if (rc < 0 && rc != -ENODEV)
		fail(d, "cannot look up the device", rc);
	return rc == 0;
}

static int open_tap(const struct host_net_dev *d)
{
	struct kernel_ifreq ifr = {.u.flags = IFF_TAP | IFF_NO_PI};

	if (!device_exists(d))
		no_such_tap(d);
	long fd = syscall4(SYS_openat, AT_FDCWD, "/dev/net/tun",
			   O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		fail(d, "cannot open /dev/net/tun", fd);
	memcpy(ifr.name, d->backend, strlen(d->backend));
	long rc = syscall3(SYS_ioctl, fd, TUNSETIFF, &ifr);
	if (rc < 0)
		fail(d, "cannot attach to the tap device", rc);
	/* Made by the operator, a tap device persists; one that does not
	 * was created just now (it vanished since the look-up): closing
	 * the descriptor removes it again. */
	rc = syscall3(SYS_ioctl, fd, TUNGETIFF, &ifr);
	if (rc < 0)
		fail(d, "cannot read the tap device's flags", rc);
	if (!(ifr.u.flags & IFF_PERSIST)) {
		syscall3(SYS_close, fd, 0, 0);
		no_such_tap(d);
	}
	return (int)fd;
}

static int open_udp(const struct host_net_dev *d)
{
	long fd = syscall3(SYS_socket, AF_INET,
			   SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail(d, "socket", fd);
	struct kernel_sockaddr_in a = {.family = AF_INET,
				       .addr = __builtin_bswap32(0x7f000001)};
	a.port = __builtin_bswap16(d->port[0]);
	long rc = syscall3(SYS_bind, fd, &a, sizeof a);
	if (rc < 0)
		fail(d, "cannot bind 127.0.0.1:LPORT", rc);
	a.port = __builtin_bswap16(d->port[1]);
	rc = syscall3(SYS_connect, fd, &a, sizeof a);
	if (rc < 0)
		fail(d, "cannot connect to 127.0.0.1:RPORT", rc);
	return (int)fd;
}

int host_net_open(struct host_net_dev *d)
{
	return d->udp ? open_udp(d) : open_tap(d);
}

static int send_frame(void *ctx, const void *frame, uint32_t len)
{
	const struct host_net_dev *d = ctx;
	for (;;) {
		long rc = syscall3(SYS_write, d->fd, frame, len);
		if (rc >= 0)
			return 0;
		if (rc != -EINTR)
			return (int)rc; /* -EAGAIN, or the frame is dropped */
	}
}

static int recv_frame(void *ctx, void *buf, uint32_t cap)
{
	const struct host_net_dev *d = ctx;
	unsigned char spill;
	struct kernel_iovec iov[2] = {{buf, cap}, {&spill, 1}};
	for (;;) {
		long rc = syscall3(SYS_readv, d->fd, iov, 2);
		if (rc > (long)cap)
			return -EMSGSIZE;
		if (rc >= 0)
			return (int)rc;
		/* A UDP peer that is not up yet answers with ICMP, reported
		 * on the next receive: not an error of this device. */
		if (rc != -EINTR && rc != -ECONNREFUSED)
			return (int)rc;
	}
}

const struct host_ring_ops host_net_backend_ops = {
    .send = send_frame,
    .recv = recv_frame,
};
