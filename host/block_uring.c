/*
 * The block rings through one io_uring (block.h, host_block_uring_start):
 * at each service every device's new requests go to the kernel (a run of
 * contiguous ones in one io_uring_enter, others one each: queue_io) and
 * stay in flight while the guest runs; each one's
 * status reaches the guest's ring when it completes, in whatever order the
 * file completes them, and used moves past those completed in ring order
 * (abi.h, "Block devices").  A FLUSH starts only when every request before
 * it on its device completed, and none after it starts before it
 * completed: it covers every write completed before it was submitted, and
 * requests behind it see it done.  A FLUSH right behind a few WRITEs
 * taken with it, alone in flight on a device whose every earlier write is
 * durable already (a group commit's write and flush), costs no fdatasync
 * of its own: those WRITEs go with RWF_DSYNC (each durable once complete,
 * as if the file were O_DSYNC) and the FLUSH completes with the last of
 * them, in one trip to the kernel where there were two in a row; if one
 * of them fails, the FLUSH becomes an fdatasync once they all completed.
 *
 * Completions are collected when the vCPU thread next serves the rings
 * (no signal to it, which would end KVM_RUN); a monitor about to sleep
 * with reads or writes in flight watches the ring a little first, then
 * arms the ring's eventfd so that a completion wakes it.
 *
 * io_uring's operations pass no seccomp filter: this ring takes read,
 * write (only if a device is writable) and fsync, which on the monitor's
 * other descriptors do no more than the filter allows there already (the
 * taps' readv and writev, the console's write; KVM's descriptors have
 * none), but for reading standard input.
 */
#include <errno.h>

#include "block.h"
#include "block_dev.h"
#include "fds.h"
#include "msg.h"
#include "sys.h"
#include "uring.h"
#include "wait.h"

enum { SYS_eventfd2 = 290, EFD_NONBLOCK = 04000, EFD_CLOEXEC = 02000000 };

/* Requests in flight on all devices at most: the submission ring's size,
 * half the completion ring's, so that no completion overflows. */
#define IN_FLIGHT_MAX 256

static struct host_uring ring = {.fd = -1};
static int efd = -1;
/* syncs: FLUSHes and O_DSYNC WRITEs, of those in flight. */
static uint32_t in_flight, syncs;

/* WRITEs that may carry a FLUSH: a short run of them. */
#define CARRY_MAX 4

/* Before a sleep with reads or writes in flight, the ring is watched for
 * so many pause instructions (~0.5 ms here): no system call and no clock
 * read (rdtsc traps under nested KVM), where a sleep costs a wakeup and
 * the device idles meanwhile. */
#define SPIN_PAUSES 20000
static uint64_t ahead; /* completed before an earlier one of its device */
static const char *off_why;

/* The depth over time, for the exit report: requests in flight summed
 * over the time since the first one started, and the time with none. */
static struct {
	uint64_t first, last, depth_ns, idle_ns;
} depth;

/* Before in_flight changes. */
static void depth_mark(void)
{
	uint64_t now = host_now();
	if (depth.first) {
		depth.depth_ns += (now - depth.last) * in_flight;
		depth.idle_ns += in_flight ? 0 : now - depth.last;
	} else {
		depth.first = now;
	}
	depth.last = now;
}

bool host_block_uring_on(void)
{
	return ring.fd >= 0;
}

static void queue(struct host_block_dev *d, const struct host_block_io *io,
		  uint32_t i)
{
	struct kernel_io_uring_sqe *s = host_uring_sqe(&ring);
	if (!s)
		host_fail("block: io_uring: no submission left");
	s->fd = d->fd;
	s->user_data = (uint64_t)(d - host_block_devs) << 32 | i;
	if (io->op == INGOT_BLOCK_FLUSH) {
		s->opcode = HOST_URING_OP_FSYNC;
		s->rw_flags = HOST_URING_DATASYNC;
		return;
	}
	s->opcode = io->op == INGOT_BLOCK_WRITE ? HOST_URING_OP_WRITE
						: HOST_URING_OP_READ;
	s->rw_flags = io->dsync ? HOST_URING_DSYNC : 0;
	s->addr = (uintptr_t)io->buf;
	s->len = (uint32_t)io->len;
	s->off = io->off;
}

/* The READ or WRITE queued last, while any is queued. */
static struct {
	const struct host_block_dev *d;
	uint32_t op;
	uint64_t end;
} last;

/* A run of READs or WRITEs each starting where the one before ended goes
 * to the kernel in one call, where the block layer merges them; one that
 * starts a new run sends those queued before it first.  Unmerged
 * requests submitted together reach this machine's disk only once all
 * are prepared, as one burst that completes as one, and the disk idles
 * while the guest turns it into the next; sent as they come, each starts
 * at once and they complete one by one (random reads at queue depth 16:
 * 1.11x the rate). */
static void queue_io(struct host_block_dev *d, const struct host_block_io *io,
		     uint32_t i)
{
	if (io->op == INGOT_BLOCK_FLUSH) {
		queue(d, io, i);
		return;
	}
	if (ring.queued &&
	    (last.d != d || last.op != io->op || last.end != io->off))
		host_uring_push(&ring);
	queue(d, io, i);
	last.d = d;
	last.op = io->op;
	last.end = io->off + io->len;
}

/* Makes the n WRITEs queued last on d (the ring's last started) O_DSYNC,
 * if they may carry the FLUSH behind them: all of them are still
 * queued. */
static bool carry(struct host_block_dev *d, uint32_t n)
{
	if (!d->synced || n != d->in_flight || n > CARRY_MAX || n > ring.queued)
		return false;
	for (uint32_t k = 1; k <= n; k++) {
		d->io[(d->next - k) % HOST_BLOCK_WINDOW].dsync = true;
		host_uring_queued(&ring, k)->rw_flags |= HOST_URING_DSYNC;
	}
	syncs += n;
	return true;
}

/* Starts what d's ring holds, up to a FLUSH that must wait. */
static void start(struct host_block_dev *d)
{
	uint32_t avail = host_block_ring_avail(d);
	uint32_t writes = 0; /* WRITEs queued here */
	bool others = false; /* other requests queued here */
	while (d->next != avail && d->flush == FLUSH_NONE &&
	       d->next - d->used < HOST_BLOCK_WINDOW &&
	       in_flight < IN_FLIGHT_MAX) {
		struct host_block_io *io = &d->io[d->next % HOST_BLOCK_WINDOW];
		/* A FLUSH waiting for others is taken (checked) again
		 * when they completed. */
		host_block_ring_take(d, d->next, io);
		if (io->op == INGOT_BLOCK_FLUSH) {
			if (!d->in_flight)
				d->flush = FLUSH_SENT;
			else if (!others && carry(d, writes))
				d->flush = FLUSH_CARRIED;
			else
				break;
			d->count.flushes++;
			syncs++;
		}
		if (io->op == INGOT_BLOCK_WRITE)
			writes++;
		else
			others = true;
		if (d->flush != FLUSH_CARRIED)
			queue_io(d, io, d->next);
		depth_mark();
		d->in_flight++;
		in_flight++;
		d->next++;
	}
}

/* Request i of d ends with status. */
static void complete(struct host_block_dev *d, uint32_t i, int status,
		     uint64_t *ready)
{
	struct host_block_io *io = &d->io[i % HOST_BLOCK_WINDOW];
	host_block_ring_complete(d, i, status);
	io->done = true;
	ahead += i != d->used;
	if (io->op == INGOT_BLOCK_FLUSH) {
		d->flush = FLUSH_NONE;
		d->synced |= status == 0;
		syncs--;
	} else if (io->op == INGOT_BLOCK_WRITE) {
		/* A failed O_DSYNC write may have left any part unsynced. */
		if (!io->dsync || status < 0)
			d->synced = false;
		if (io->dsync && status < 0 && d->flush == FLUSH_CARRIED)
			d->flush = FLUSH_WAITING;
		syncs -= io->dsync;
		io->dsync = false;
	}
	depth_mark();
	d->in_flight--;
	in_flight--;
	*ready |= 1ULL << d->handle;
	uint32_t was = d->used;
	while (d->used != d->next && d->io[d->used % HOST_BLOCK_WINDOW].done)
		d->io[d->used++ % HOST_BLOCK_WINDOW].done = false;
	if (d->used != was)
		__atomic_store_n(&d->ring->used, d->used, __ATOMIC_RELEASE);
}

static void done(void *ctx, uint64_t user_data, int32_t res)
{
	uint64_t *ready = ctx;
	struct host_block_dev *d = &host_block_devs[user_data >> 32];
	uint32_t i = (uint32_t)user_data;
	struct host_block_io *io = &d->io[i % HOST_BLOCK_WINDOW];

	if (io->op != INGOT_BLOCK_FLUSH && res > 0 && (uint64_t)res < io->len) {
		/* A short transfer: the rest. */
		io->buf += res;
		io->len -= (uint64_t)res;
		io->off += (uint64_t)res;
		queue(d, io, i);
		return;
	}
	if (res == -EINTR || res == -EAGAIN) {
		queue(d, io, i);
		return;
	}
	/* A read or write of nothing: the file shrank under the device. */
	complete(d, i,
		 res < 0                               ? res
		 : io->op != INGOT_BLOCK_FLUSH && !res ? -EIO
						       : 0,
		 ready);
	/* The FLUSH left alone in flight: done with its writes, or sent. */
	if (d->in_flight != 1 || d->flush < FLUSH_CARRIED)
		return;
	if (d->flush == FLUSH_CARRIED) {
		d->carried++;
		complete(d, d->next - 1, 0, ready);
		return;
	}
	d->flush = FLUSH_SENT;
	queue(d, &d->io[(d->next - 1) % HOST_BLOCK_WINDOW], d->next - 1);
}

uint64_t host_block_uring_service(void)
{
	uint64_t ready = 0;
	/* A completion may let a FLUSH, or what waits behind one, start. */
	for (;;) {
		for (unsigned i = 0; i < host_block_ndevs; i++)
			if (host_block_devs[i].ring)
				start(&host_block_devs[i]);
		if (!ring.queued && !host_uring_completed(&ring))
			return ready;
		host_uring_submit(&ring, done, &ready);
	}
}

void host_block_uring_start(bool off)
{
	uint8_t ops[3] = {HOST_URING_OP_READ, HOST_URING_OP_FSYNC};
	unsigned nops = 2;

	if (!host_block_ndevs)
		return;
	if (off) {
		off_why = "turned off";
		return;
	}
	for (unsigned i = 0; i < host_block_ndevs; i++)
		if (!host_block_devs[i].ro) {
			ops[nops++] = HOST_URING_OP_WRITE;
			break;
		}
	long fd = syscall3(SYS_eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC, 0);
	int rc =
	    fd < 0 ? (int)fd
		   : host_uring_open(&ring, IN_FLIGHT_MAX, ops, nops, (int)fd);
	if (rc < 0) {
		if (fd >= 0)
			syscall3(SYS_close, fd, 0, 0);
		off_why = rc == -ENOSYS || rc == -EPERM
			      ? "not available (kernel.io_uring_disabled?)"
			      : "could not be set up";
		host_msg("block: io_uring %s (error %d): one request at a "
			 "time",
			 off_why, -rc);
		return;
	}
	efd = (int)fd;
}

int host_block_uring_fd(void)
{
	return ring.fd;
}

int host_block_uring_eventfd(void)
{
	return efd;
}

int host_block_sleep_fds(struct kernel_pollfd *fds)
{
	if (!in_flight)
		return 0;
	/* Flushes and O_DSYNC writes take milliseconds: those are slept
	 * on. */
	if (in_flight > syncs)
		for (unsigned k = 0; k < SPIN_PAUSES; k++) {
			if (host_uring_completed(&ring))
				return -1;
			__builtin_ia32_pause();
		}
	if (!host_uring_arm(&ring))
		return -1;
	fds[0] = (struct kernel_pollfd){.fd = efd, .events = 1 /* POLLIN */};
	return 1;
}

void host_block_woke(const struct kernel_pollfd *fds, int n)
{
	if (n <= 0)
		return;
	host_uring_disarm(&ring);
	if (fds[0].revents) {
		uint64_t count;
		syscall3(SYS_read, efd, &count, sizeof count);
	}
}

void host_block_uring_report(void)
{
	uint64_t carried = 0;
	for (unsigned i = 0; i < host_block_ndevs; i++)
		carried += host_block_devs[i].carried;
	if (ring.fd >= 0) {
		host_msg("block: io_uring: %lu requests in %lu system calls, "
			 "%lu completed ahead of an earlier one, %lu flushes "
			 "carried by their O_DSYNC writes",
			 (unsigned long)ring.ops, (unsigned long)ring.enters,
			 (unsigned long)ahead, (unsigned long)carried);
		uint64_t span = depth.last - depth.first;
		if (span)
			host_msg(
			    "block: in flight: %lu.%02lu on average over "
			    "%lu ms, none for %lu%% of it",
			    (unsigned long)(depth.depth_ns / span),
			    (unsigned long)(depth.depth_ns * 100 / span % 100),
			    (unsigned long)(span / 1000000),
			    (unsigned long)(depth.idle_ns * 100 / span));
	} else if (off_why)
		host_msg("block: io_uring %s: one request at a time", off_why);
}
