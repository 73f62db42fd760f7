/*
 * The tap devices' frames through one io_uring (net.h,
 * host_net_uring_start): at each service a device's frames to send and
 * the reads to try go to the kernel in one io_uring_enter instead of a
 * writev or readv each.  Every read and write is RWF_NOWAIT, as the
 * descriptors are non-blocking: a frame that is not there is -EAGAIN at
 * once, and nothing is left in flight when the batch returns, so the guest
 * never gets back a buffer the kernel could still write.
 *
 * io_uring's operations pass no seccomp filter: the ring takes readv and
 * writev only (uring.h), and on the monitor's other descriptors those do
 * no more than the filter allows there already (the block files' reads
 * and writes, by pread and pwrite or their own ring; the console's write;
 * KVM's descriptors have neither), but for reading standard input.
 */
#include <errno.h>

#include "msg.h"
#include "net.h"
#include "net_dev.h"
#include "sys.h"
#include "uring.h"

static struct host_uring ring = {.fd = -1};
static const char *off_why; /* why there is none, for the report */
static unsigned long alone; /* reads and writes each its own call */

static void tap_batch(void *ctx, struct host_ring_io *io, unsigned n)
{
	const struct host_net_dev *d = ctx;
	int32_t res[HOST_RING_BATCH_MAX];

	/* One read or write alone costs less as its own system call. */
	if (n == 1) {
		alone++;
		io->res = io->send ? host_net_backend_ops.send(ctx, io->iov,
							       io->n, &io->f)
				   : host_net_backend_ops.recv(ctx, io->iov,
							       io->n, &io->f);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct kernel_io_uring_sqe *s = host_uring_sqe(&ring);
		if (io[i].send)
			host_net_put_header(io[i].scratch, &io[i].f);
		io[i].iov[0] = (struct kernel_iovec){
		    io[i].scratch, sizeof(struct kernel_virtio_net_hdr)};
		s->opcode =
		    io[i].send ? HOST_URING_OP_WRITEV : HOST_URING_OP_READV;
		/* Sends in order: one that fails cancels those after it. */
		if (io[i].send && i + 1 < n && io[i + 1].send)
			s->flags = HOST_URING_LINK;
		s->fd = d->fd;
		s->addr = (uintptr_t)io[i].iov;
		s->len = io[i].n;
		s->rw_flags = HOST_URING_NOWAIT;
	}
	host_uring_run(&ring, res);
	for (unsigned i = 0; i < n; i++)
		io[i].res = io[i].send ? (res[i] < 0 ? res[i] : 0)
				       : host_net_take_header(io[i].scratch,
							      res[i], &io[i].f);
}

/* The tap backend's, with its frames batched. */
static struct host_ring_ops uring_ops;

void host_net_uring_start(bool off)
{
	unsigned taps = 0;
	static const uint8_t ops[] = {HOST_URING_OP_READV,
				      HOST_URING_OP_WRITEV};

	if (off) {
		off_why = "turned off";
		return;
	}
	for (unsigned i = 0; i < host_net_ndevs; i++)
		taps += !host_net_devs[i].udp;
	if (!taps)
		return;
	int rc = host_uring_open(&ring, 2 * HOST_RING_BATCH_MAX, ops,
				 sizeof ops, -1);
	if (rc < 0) {
		off_why = rc == -ENOSYS || rc == -EPERM
			      ? "not available (kernel.io_uring_disabled?)"
			      : "could not be set up";
		host_msg("net: io_uring %s (error %d): one system call per "
			 "frame",
			 off_why, -rc);
		return;
	}
	uring_ops = host_net_backend_ops;
	uring_ops.batch = tap_batch;
	for (unsigned i = 0; i < host_net_ndevs; i++)
		if (!host_net_devs[i].udp)
			host_net_devs[i].ring.ops = &uring_ops;
}

int host_net_uring_fd(void)
{
	return ring.fd;
}

void host_net_uring_report(void)
{
	if (ring.fd >= 0)
		host_msg("net: io_uring: %lu reads and writes in %lu system "
			 "calls, %lu more alone",
			 (unsigned long)ring.ops, (unsigned long)ring.enters,
			 alone);
	else if (off_why)
		host_msg("net: io_uring %s: a system call per frame", off_why);
}
