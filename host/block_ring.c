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
static int transfer(const struct host_block_dev *d, bool write,
		    unsigned char *buf, uint64_t len, uint64_t off)
{
	while (len) {
		long rc = syscall4(write ? SYS_pwrite64 : SYS_pread64, d->fd,
				   buf, len, off);
		if (rc == -EINTR)
			continue;
		if (rc < 0)
			return (int)rc;
		if (rc == 0)
			return -EIO;
		buf += rc;
		len -= (uint64_t)rc;
		off += (uint64_t)rc;
	}
	return 0;
}

static int flush(struct host_block_dev *d)
{
	long rc;
	do
		rc = syscall3(SYS_fdatasync, d->fd, 0, 0);
	while (rc == -EINTR);
	d->count.flushes++;
	return (int)rc;
}

/* Checks r against the rules and carries it out: its status. */
static int serve(struct host_block_dev *d, const struct ingot_block_req *r)
{
	const struct host_block_geometry g = {d->sectors, HOST_BLOCK_SECTOR,
					      d->ro};
	const char *broken = host_block_rule_broken(r, &g);
	if (broken)
		violation(d, broken, r);
	if (r->op == INGOT_BLOCK_FLUSH)
		return flush(d);
	bool write = r->op == INGOT_BLOCK_WRITE;
	uint64_t len = (uint64_t)r->count * HOST_BLOCK_SECTOR;
	unsigned char *buf = d->guest_ptr(r->addr, len, !write);
	if (!buf)
		violation(d,
			  write ? "with a buffer outside guest memory"
				: "with a buffer outside guest-writable memory",
			  r);
	int rc = transfer(d, write, buf, len, r->sector * HOST_BLOCK_SECTOR);
	if (write) {
		d->count.writes++;
		d->count.bytes_written += len;
	} else {
		d->count.reads++;
		d->count.bytes_read += len;
	}
	return rc;
}

bool host_block_ring_service(struct host_block_dev *d)
{
	if (!d->ring)
		return false;
	uint32_t avail = __atomic_load_n(&d->ring->avail, __ATOMIC_ACQUIRE);
	uint32_t n = avail - d->used;
	if (n > d->size)
		host_stop("block ring index out of range (device %s)", d->name);
	for (uint32_t i = 0; i < n; i++) {
		struct ingot_block_req *slot =
		    &d->ring->req[d->used & (d->size - 1)];
		struct ingot_block_req r = *slot;
		int rc = serve(d, &r);
		if (rc < 0)
			d->count.errors++;
		slot->status = rc;
		d->used++;
	}
	if (n)
		__atomic_store_n(&d->ring->used, d->used, __ATOMIC_RELEASE);
	return n != 0;
}
