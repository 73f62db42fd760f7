/*
 * blk: block devices for fibers.  Each attached block device of the
 * image's manifest (INGOT_DEVICE(INGOT_DEVICE_BLOCK, name)) gets a ring at
 * start of day; a fiber that reads, writes or flushes blocks until its
 * requests complete, while the others run.  Every request submitted in one
 * turn of the loop reaches the host in that turn's single ingot_poll(), so
 * many fibers (or one blk_batch) cost one exit between them.  The host
 * may keep them all in flight and complete them in any order (a fiber
 * wakes when its own requests completed); only flushes order them (see
 * blk_batch), so a read concurrent with a write to its sectors may see
 * either.
 *
 * Buffers must be aligned to the sector size and stay untouched until the
 * call returns.  The library checks every request before the host sees it
 * (the host stops a guest that breaks the ring's rules): a range past the
 * end or a misaligned buffer is -EINVAL, a write to a read-only device
 * -EROFS.  The host's own failures come back as its errors (-EIO,
 * -ENOSPC).  Durability is abi.h's: a completed write survives the guest
 * and its host process, a completed flush the host machine's crash too.
 */
#ifndef INGOT_BLK_H
#define INGOT_BLK_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stdint.h>

struct blk_dev;

/* The attached block device called name, or NULL (not declared, or not
 * given to the host). */
struct blk_dev *blk_open(const char *name);

uint32_t blk_sector_size(const struct blk_dev *d);
/* The device's handle: its bit in ingot_poll's ready set. */
uint32_t blk_handle(const struct blk_dev *d);
uint64_t blk_sectors(const struct blk_dev *d);
bool blk_read_only(const struct blk_dev *d);

/* count sectors from sector into / out of buf; any count (the library
 * splits what one request cannot carry).  0 or a negative error. */
int blk_read(struct blk_dev *d, uint64_t sector, void *buf, uint32_t count);
int blk_write(struct blk_dev *d, uint64_t sector, const void *buf,
	      uint32_t count);

/* Makes every write completed before it durable (abi.h): 0 or an error. */
int blk_flush(struct blk_dev *d);

/* One request of a batch: op is INGOT_BLOCK_READ, _WRITE or _FLUSH
 * (sector, buf and count unused).  status is set when the batch returns. */
struct blk_io {
	uint32_t op;
	uint32_t count;
	uint64_t sector;
	void *buf;
	int status;
};

/*
 * Submits n requests and waits for all of them.  The host may carry them
 * out at once and in any order, but a flush waits for the requests before
 * it in the batch and those after it wait for the flush: it covers the
 * writes before it.  Returns 0, or the first request's error (each one's
 * is in its status); nothing is submitted if one of them is invalid.
 */
int blk_batch(struct blk_dev *d, struct blk_io *io, unsigned n);

/*
 * An asynchronous batch, for code that must not block (a sched_poller's
 * hooks): blk_start() submits n requests as blk_batch() does and returns
 * at once.  When every one of them completed, the library calls
 * a->done(a) from its poller, in the loop's turn that found the last
 * completion (so fibers it wakes run in that turn), with each request's
 * status set; done must not block.  io and a stay the caller's, untouched,
 * until then.  Returns 0 (submitted), -EAGAIN if the ring has no room for
 * them all now (nothing submitted: try again at a later turn), or -EINVAL
 * / -EROFS as blk_batch, and -EINVAL for a batch with nothing to submit.
 */
struct blk_async {
	void (*done)(struct blk_async *a);
	unsigned pending; /* the library's */
};
int blk_start(struct blk_dev *d, struct blk_io *io, unsigned n,
	      struct blk_async *a);

struct blk_stats {
	uint64_t reads, writes, flushes; /* host requests completed */
	uint64_t bytes_read, bytes_written;
	uint64_t errors;
	uint64_t batches; /* times the poller found completions */
};
void blk_stats(const struct blk_dev *d, struct blk_stats *s);

#endif
