/*
 * The host side of the block rings (abi.h, "Block devices"): every field
 * read from a ring is untrusted and checked before the file is touched; a
 * request outside the rules stops the guest.
 */
#include <errno.h>

#include "block.h"
#include "block_dev.h"
#include "block_rules.h"
#include "msg.h"
#include "sys.h"

#define REQS_OFFSET 16 /* offsetof(struct ingot_block_ring, req) */

static _Noreturn void violation(const struct host_block_dev *d,
				const char *what,
				const struct ingot_block_req *r)
{
	char details[200];
	const struct host_block_geometry g = {d->sectors, HOST_BLOCK_SECTOR,
					      d->ro};
	host_block_describe(details, sizeof details, d->name, r, &g);
	host_stop("block request %s %s", what, details);
}

int host_block_ring_attach(struct host_block_dev *d, uint64_t va)
{
	if (d->ring)
		return -EBUSY;
	struct ingot_block_ring *r = d->guest_ptr(va, REQS_OFFSET, true);
	if (!r || va % 8)
		return -EINVAL;
	uint32_t size = r->size;
	if (!size || size > INGOT_BLOCK_RING_MAX || (size & (size - 1)))
		return -EINVAL;
	r = d->guest_ptr(va, REQS_OFFSET + size * sizeof r->req[0], true);
	if (!r)
		return -EINVAL;
	d->size = size;
	d->used = __atomic_load_n(&r->used, __ATOMIC_RELAXED);
	d->ring = r;
	return 0;
}

/* All of [off, off + len) through pread or pwrite: 0 or a negative error
 * (a file that shrank under the device reads as an I/O error). */
static int transfer(const struct host_block_dev *d, struct host_block_io *io)
{
	bool write = io->op == INGOT_BLOCK_WRITE;
	while (io->len) {
		long rc = syscall4(write ? SYS_pwrite64 : SYS_pread64, d->fd,
				   io->buf, io->len, io->off);
		if (rc == -EINTR)
			continue;
		if (rc < 0)
			return (int)rc;
		if (rc == 0)
			return -EIO;
		io->buf += rc;
		io->len -= (uint64_t)rc;
		io->off += (uint64_t)rc;
	}
	return 0;
}

static int flush(struct host_block_dev *d)
{
	long rc;
	d->count.flushes++;
	do
		rc = syscall3(SYS_fdatasync, d->fd, 0, 0);
	while (rc == -EINTR);
	return (int)rc;
}

uint32_t host_block_ring_avail(struct host_block_dev *d)
{
	uint32_t avail = __atomic_load_n(&d->ring->avail, __ATOMIC_ACQUIRE);
	if (avail - d->used > d->size)
		host_stop("block ring index out of range (device %s)", d->name);
	return avail;
}

void host_block_ring_take(struct host_block_dev *d, uint32_t i,
			  struct host_block_io *io)
{
	const struct ingot_block_req r = d->ring->req[i & (d->size - 1)];
	const struct host_block_geometry g = {d->sectors, HOST_BLOCK_SECTOR,
					      d->ro};
	const char *broken = host_block_rule_broken(&r, &g);
	if (broken)
		violation(d, broken, &r);
	*io = (struct host_block_io){.op = r.op};
	if (r.op == INGOT_BLOCK_FLUSH)
		return;
	bool write = r.op == INGOT_BLOCK_WRITE;
	io->len = (uint64_t)r.count * HOST_BLOCK_SECTOR;
	io->off = r.sector * HOST_BLOCK_SECTOR;
	io->buf = d->guest_ptr(r.addr, io->len, !write);
	if (!io->buf)
		violation(d,
			  write ? "with a buffer outside guest memory"
				: "with a buffer outside guest-writable memory",
			  &r);
	if (write) {
		d->count.writes++;
		d->count.bytes_written += io->len;
	} else {
		d->count.reads++;
		d->count.bytes_read += io->len;
	}
}

void host_block_ring_complete(struct host_block_dev *d, uint32_t i, int status)
{
	if (status < 0)
		d->count.errors++;
	__atomic_store_n(&d->ring->req[i & (d->size - 1)].status, status,
			 __ATOMIC_RELEASE);
}

bool host_block_ring_service(struct host_block_dev *d)
{
	if (!d->ring)
		return false;
	uint32_t avail = host_block_ring_avail(d);
	if (avail == d->used)
		return false;
	for (; d->used != avail; d->used++) {
		struct host_block_io io;
		host_block_ring_take(d, d->used, &io);
		host_block_ring_complete(
		    d, d->used,
		    io.op == INGOT_BLOCK_FLUSH ? flush(d) : transfer(d, &io));
	}
	__atomic_store_n(&d->ring->used, d->used, __ATOMIC_RELEASE);
	return true;
}
