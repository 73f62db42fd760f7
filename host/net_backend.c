/*
 * The backends of network devices: an existing tap device, or a UDP socket
 * on 127.0.0.1.  Frames go out with writev and come in with readv straight
 * between the guest's buffers and the kernel, non-blocking.  A tap device
 * carries a virtio-net header with every frame (IFF_VNET_HDR), which is
 * how the guest's checksum and segmentation offloads reach the kernel:
 * with TSO a 64 KiB TCP segment crosses in one system call each way.
 * On ingot-kvm the taps' frames go in batches through io_uring instead
 * (net_uring.c), with the same headers.
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

/* A network device request (SIOC*) about d's tap, in *ifr. */
static long device_ioctl(const struct host_net_dev *d, unsigned long req,
			 struct kernel_ifreq *ifr)
{
	long s = syscall3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail(d, "socket", s);
	memcpy(ifr->name, d->backend, strlen(d->backend));
	long rc = syscall3(SYS_ioctl, s, req, ifr);
	syscall3(SYS_close, s, 0, 0);
	return rc;
}

/* Whether a network device of that name exists (in this namespace), asked
 * without creating one, as TUNSETIFF would. */
static bool device_exists(const struct host_net_dev *d)
{
	struct kernel_ifreq ifr = {0};
	long rc = device_ioctl(d, SIOCGIFINDEX, &ifr);
	if (rc < 0 && rc != -ENODEV)
		fail(d, "cannot look up the device", rc);
	return rc == 0;
}

/*
 * The tap's queue (its txqueuelen) holds the frames toward the guest
 * while the guest is busy; past it the kernel drops them.  A socket server
 * has a buffer per connection, the guest only this queue, and the
 * kernel's default of 1,000 frames is what a server with 1,000 clients
 * gets in requests and ACKs at once.  Whoever makes the tap should size
 * it (ingot's CLI makes its taps with 8192): a change on a tap that is up
 * swaps its queueing discipline out for a moment, and frames sent to it
 * meanwhile are lost, so it is raised (never lowered) to d->queue only
 * when asked.  Without CAP_NET_ADMIN it stays as it is, said once.
 */
static void raise_queue(const struct host_net_dev *d)
{
	if (!d->queue)
		return;
	struct kernel_ifreq ifr = {0};
	long rc = device_ioctl(d, SIOCGIFTXQLEN, &ifr);
	if (rc < 0 || (uint32_t)ifr.u.qlen >= d->queue)
		return;
	ifr.u.qlen = (int)d->queue;
	rc = device_ioctl(d, SIOCSIFTXQLEN, &ifr);
	if (rc < 0)
		host_msg("--net %s=%s: the tap device's queue stays below "
			 "queue=%u frames: %s",
			 d->name, d->backend, d->queue, strerror((int)-rc));
}

static int open_tap(const struct host_net_dev *d)
{
	struct kernel_ifreq ifr = {.u.flags =
				       IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};

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
	/* The header's size is the device's, not the descriptor's: another
	 * program (QEMU: 12 bytes) may have left it changed. */
	int hdr = sizeof(struct kernel_virtio_net_hdr);
	rc = syscall3(SYS_ioctl, fd, TUNSETVNETHDRSZ, &hdr);
	if (rc < 0)
		fail(d, "cannot set the tap device's header size", rc);
	raise_queue(d);
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

/* What a backend can do for the guest (abi.h, offloads). */
uint32_t host_net_offers(const struct host_net_dev *d)
{
	return d->udp || d->no_offload ? 0
				       : INGOT_NET_F_CSUM | INGOT_NET_F_TSO4;
}

void host_net_put_header(void *hdr, const struct host_frame *f)
{
	struct kernel_virtio_net_hdr *h = hdr;
	*h = (struct kernel_virtio_net_hdr){0};
	if (f->flags & INGOT_NET_SLOT_CSUM) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = f->csum_start;
		h->csum_offset = f->csum_offset;
		h->hdr_len = (uint16_t)(f->csum_start + f->csum_offset + 2);
	}
	if (f->flags & INGOT_NET_SLOT_TSO4) {
		h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = f->gso_size;
	}
}

int host_net_take_header(const void *hdr, long rc, struct host_frame *f)
{
	const struct kernel_virtio_net_hdr *h = hdr;
	if (rc < 0)
		return (int)rc;
	if (rc < (long)sizeof *h)
		return -EPROTO; /* shorter than its header */
	*f = (struct host_frame){0};
	if (h->flags &
	    (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) {
		f->flags |= INGOT_NET_SLOT_CSUM_OK;
		f->csum_start = h->csum_start;
		f->csum_offset = h->csum_offset;
	}
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4) {
		f->flags |= INGOT_NET_SLOT_TSO4;
		f->gso_size = h->gso_size;
	} else if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		return -EPROTO; /* a kind never turned on */
	}
	return (int)(rc - (long)sizeof *h);
}

static int send_frame(void *ctx, struct kernel_iovec *iov, unsigned n,
		      const struct host_frame *f)
{
	const struct host_net_dev *d = ctx;
	struct kernel_virtio_net_hdr h;
	host_net_put_header(&h, f);
	iov[0] = (struct kernel_iovec){&h, sizeof h};
	/* A UDP backend takes no header (and no offloads: none offered). */
	if (d->udp) {
		iov++;
		n--;
	}
	for (;;) {
		long rc = syscall3(SYS_writev, d->fd, iov, n);
		if (rc >= 0)
			return 0;
		if (rc != -EINTR)
			return (int)rc; /* -EAGAIN, or the frame is dropped */
	}
}

static int recv_frame(void *ctx, struct kernel_iovec *iov, unsigned n,
		      struct host_frame *f)
{
	const struct host_net_dev *d = ctx;
	struct kernel_virtio_net_hdr h;
	iov[0] = (struct kernel_iovec){&h, sizeof h};
	for (;;) {
		long rc;
		if (d->udp) {
			rc = syscall3(SYS_readv, d->fd, iov + 1, n - 1);
			if (rc >= 0) {
				*f = (struct host_frame){0};
				return (int)rc;
			}
		} else {
			rc = syscall3(SYS_readv, d->fd, iov, n);
			if (rc >= 0)
				return host_net_take_header(&h, rc, f);
		}
		/* A UDP peer that is not up yet answers with ICMP, reported
		 * on the next receive: not an error of this device. */
		if (rc != -EINTR && rc != -ECONNREFUSED)
			return (int)rc;
	}
}

static int set_offloads(void *ctx, uint32_t features)
{
	const struct host_net_dev *d = ctx;
	unsigned long tun = 0;
	if (features & INGOT_NET_F_CSUM)
		tun |= TUN_F_CSUM;
	if (features & INGOT_NET_F_TSO4)
		tun |= TUN_F_TSO4;
	long rc = syscall3(SYS_ioctl, d->fd, TUNSETOFFLOAD, tun);
	return rc < 0 ? (int)rc : 0;
}

const struct host_ring_ops host_net_backend_ops = {
    .send = send_frame,
    .recv = recv_frame,
    .set_offloads = set_offloads,
};
