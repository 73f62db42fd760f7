/*
 * Network devices on the hosted target, over two backends:
 *   --net NAME=TAP[,mac=MAC]              a tap device (needs CAP_NET_ADMIN)
 *   --net NAME=udp:LPORT:RPORT[,mac=MAC]  frames as UDP datagrams on
 *                                         127.0.0.1, from LPORT to RPORT
 * The UDP backend needs no privilege: two images with mirrored ports are
 * joined by a virtual cable, and a test can be the other end.  Frames move
 * between the backend and the guest's rings in every ingot_poll(), with
 * the ring code the kvm monitor uses (platform/common/net_host.c).
 */
#include <errno.h>
#include <string.h>

#include "../common/net_host.h"
#include "hosted.h"
#include "hosted_fds.h"
#include "hosted_syscall.h"

struct hosted_net {
	const char *spec; /* NAME=BACKEND[,mac=MAC] as given */
	char name[INGOT_DEVICE_NAME_MAX + 1];
	uint8_t mac[6];
	int fd;
	struct net_host_dev dev;
};

static struct hosted_net nets[INGOT_DEVICES_MAX];
static unsigned nnets;

const char *hosted_net_option(const char *spec)
{
	const char *eq = strchr(spec, '=');
	if (nnets == INGOT_DEVICES_MAX)
		return "too many --net options";
	if (!eq || eq == spec || eq - spec > INGOT_DEVICE_NAME_MAX)
		return "--net wants NAME=TAP or NAME=udp:LPORT:RPORT, "
		       "then optionally ,mac=MAC";
	struct hosted_net *n = &nets[nnets];
	memcpy(n->name, spec, eq - spec);
	n->name[eq - spec] = '\0';
	for (unsigned i = 0; i < nnets; i++)
		if (strcmp(nets[i].name, n->name) == 0)
			return "--net: a device given twice";
	n->spec = eq + 1;
	n->fd = -1;
	nnets++;
	return NULL;
}

static _Noreturn void fail(const struct hosted_net *n, const char *what,
			   long err)
{
	hosted_say("ingot: --net ");
	hosted_say(n->name);
	hosted_say(": ");
	hosted_say(what);
	if (err) {
		hosted_say(": ");
		hosted_say(strerror((int)-err));
	}
	hosted_say("\n");
	syscall3(SYS_exit_group, INGOT_EXIT_SETUP, 0, 0);
	__builtin_unreachable();
}

/* "5000:5001" -> ports; false if malformed. */
static bool parse_ports(const char *s, size_t len, uint16_t port[2])
{
	unsigned v = 0, k = 0;
	bool digits = false;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : ':';
		if (c >= '0' && c <= '9' && v < 65536) {
			v = v * 10 + (unsigned)(c - '0');
			digits = true;
		} else if (c == ':' && digits && v && v < 65536 && k < 2) {
			port[k++] = (uint16_t)v;
			v = 0;
			digits = false;
		} else {
			return false;
		}
	}
	return k == 2;
}

static long open_udp(struct hosted_net *n, const char *ports, size_t len)
{
	uint16_t port[2];
	if (!parse_ports(ports, len, port))
		fail(n, "expected udp:LPORT:RPORT (ports 1-65535)", 0);
	long fd = syscall3(SYS_socket, AF_INET,
			   SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail(n, "socket", fd);
	struct kernel_sockaddr_in a = {
	    .family = AF_INET, .addr = __builtin_bswap32(0x7f000001)};
	a.port = __builtin_bswap16(port[0]);
	long rc = syscall3(SYS_bind, fd, &a, sizeof a);
	if (rc < 0)
		fail(n, "cannot bind 127.0.0.1:LPORT", rc);
	a.port = __builtin_bswap16(port[1]);
	rc = syscall3(SYS_connect, fd, &a, sizeof a);
	if (rc < 0)
		fail(n, "cannot connect to 127.0.0.1:RPORT", rc);
	return fd;
}

static long open_tap(struct hosted_net *n, const char *tap, size_t len)
{
	struct kernel_ifreq ifr = {.flags = IFF_TAP | IFF_NO_PI};
	if (!len || len >= sizeof ifr.name)
		fail(n, "bad tap device name", 0);
	memcpy(ifr.name, tap, len);
	long fd = syscall4(SYS_openat, AT_FDCWD, "/dev/net/tun",
			   O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		fail(n, "cannot open /dev/net/tun", fd);
	long rc = syscall3(SYS_ioctl, fd, TUNSETIFF, &ifr);
	if (rc < 0)
		fail(n, "cannot attach to the tap device", rc);
	return fd;
}

static void *guest_ptr(void *ctx, uint64_t va, uint64_t len, bool writable)
{
	const struct ingot_boot_info *bi = &hosted.info;
	(void)ctx;
	(void)writable; /* the heap is all writable */
	if (va < bi->heap_start || len > bi->heap_size ||
	    va - bi->heap_start > bi->heap_size - len)
		return NULL;
	return (void *)(uintptr_t)va;
}

static int net_send(void *ctx, const void *frame, uint32_t len)
{
	const struct hosted_net *n = ctx;
	for (;;) {
		long rc = syscall3(SYS_write, n->fd, frame, len);
		if (rc >= 0)
			return 0;
		if (rc != -EINTR)
			return (int)rc; /* -EAGAIN, or the frame is dropped */
	}
}

static int net_recv(void *ctx, void *buf, uint32_t cap)
{
	const struct hosted_net *n = ctx;
	unsigned char spill;
	struct kernel_iovec iov[2] = {{buf, cap}, {&spill, 1}};
	for (;;) {
		long rc = syscall3(SYS_readv, n->fd, iov, 2);
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

static _Noreturn void violation(void *ctx, const char *what)
{
	hosted_say("ingot: guest stopped: ");
	hosted_say(what);
	hosted_say("\n");
	(void)ctx;
	syscall3(SYS_exit_group, INGOT_EXIT_STOPPED, 0, 0);
	__builtin_unreachable();
}

static const struct net_host_ops ops = {
    .guest_ptr = guest_ptr,
    .send = net_send,
    .recv = net_recv,
    .violation = violation,
};

void hosted_net_setup(void)
{
	struct ingot_boot_info *bi = &hosted.info;
	for (unsigned i = 0; i < nnets; i++) {
		struct hosted_net *n = &nets[i];
		struct ingot_device *d = NULL;
		for (unsigned k = 0; k < bi->ndevices; k++)
			if (bi->devices[k].type == INGOT_DEVICE_NET &&
			    strcmp(bi->devices[k].name, n->name) == 0)
				d = &bi->devices[k];
		if (!d)
			fail(n, "the image declares no network device of "
				"that name", 0);
		const char *mac = strstr(n->spec, ",mac=");
		size_t len = mac ? (size_t)(mac - n->spec) : strlen(n->spec);
		long fd = strncmp(n->spec, "udp:", 4) == 0
			      ? open_udp(n, n->spec + 4, len - 4)
			      : open_tap(n, n->spec, len);
		char key[64];
		size_t klen = len < sizeof key - 1 ? len : sizeof key - 1;
		memcpy(key, n->spec, klen);
		key[klen] = '\0';
		net_default_mac(key, n->mac);
		if (mac && !net_parse_mac(mac + 5, n->mac))
			fail(n, "expected ,mac=XX:XX:XX:XX:XX:XX (unicast)", 0);
		/* At its fixed number, the one the seccomp filter allows. */
		n->fd = HOSTED_NET_FD_BASE + (int)d->handle;
		long rc = syscall4(SYS_dup3, fd, n->fd, O_CLOEXEC, 0);
		if (rc < 0)
			fail(n, "dup3", rc);
		syscall3(SYS_close, fd, 0, 0);
		d->attached = true;
		memcpy(d->u.net.mac, n->mac, 6);
		d->u.net.mtu = 1500;
		n->dev.ops = &ops;
		n->dev.ctx = n;
	}
}

int ingot_net_attach(uint32_t handle, struct ingot_net_ring *tx,
		     struct ingot_net_ring *rx)
{
	if (hosted.sealed)
		return -EPERM;
	for (unsigned i = 0; i < nnets; i++)
		if (nets[i].fd == HOSTED_NET_FD_BASE + (int)handle)
			return net_host_attach(&nets[i].dev, (uintptr_t)tx,
					       (uintptr_t)rx);
	return -ENODEV;
}

uint64_t hosted_net_service(void)
{
	uint64_t ready = 0;
	for (unsigned i = 0; i < nnets; i++)
		if (net_host_service(&nets[i].dev))
			ready |= 1ULL << (nets[i].fd - HOSTED_NET_FD_BASE);
	return ready;
}

unsigned hosted_net_pollfds(struct kernel_pollfd *fds)
{
	unsigned k = 0;
	for (unsigned i = 0; i < nnets; i++) {
		short ev = net_host_poll_events(&nets[i].dev);
		if (ev)
			fds[k++] = (struct kernel_pollfd){nets[i].fd, ev, 0};
	}
	return k;
}
