/* host/block internals: a block device, its file and its ring. */
#ifndef HOST_BLOCK_DEV_H
#define HOST_BLOCK_DEV_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stdint.h>

#include "net_ring.h"

struct host_block_counters {
	uint64_t reads, writes, flushes, bytes_read, bytes_written, errors;
};

/* A request taken from the ring: checked, its buffer a host pointer. */
struct host_block_io {
	uint32_t op; /* enum ingot_block_op */
	bool done;   /* completed, used not yet past it (io_uring) */
	bool dsync;  /* a WRITE sent with RWF_DSYNC, carrying a FLUSH */
	unsigned char *buf;
	uint64_t len, off; /* bytes, from the file's start */
};

/* Requests of one device in flight through io_uring at most: they lie in
 * [used, used + HOST_BLOCK_WINDOW), so their index picks their entry. */
#define HOST_BLOCK_WINDOW 64

struct host_block_dev {
	char name[INGOT_DEVICE_NAME_MAX + 1];
	const char *path;
	bool ro;
	bool direct; /* opened with O_DIRECT */
	int handle;  /* -1 until setup */
	int fd;
	uint64_t sectors;
	host_guest_ptr_fn *guest_ptr;
	struct ingot_block_ring *ring; /* host pointer, checked at attach */
	uint32_t size;                 /* as checked at attach */
	uint32_t used;                 /* the host's copy: never read back */
	struct host_block_counters count;
	/* io_uring (block_uring.c): requests before next were started;
	 * in_flight of them have not completed, one a FLUSH (next - 1) if
	 * flush is not FLUSH_NONE.  synced: every WRITE completed so far
	 * is durable (an fdatasync or its O_DSYNC covered it). */
	uint32_t next, in_flight;
	enum host_block_flush {
		FLUSH_NONE,
		FLUSH_SENT,    /* an fdatasync in flight */
		FLUSH_CARRIED, /* completes with the O_DSYNC WRITEs ahead */
		FLUSH_WAITING, /* one of those failed: an fdatasync once alone
				*/
	} flush;
	bool synced;
	uint64_t carried; /* FLUSHes that took no fdatasync of their own */
	struct host_block_io io[HOST_BLOCK_WINDOW];
};

extern struct host_block_dev host_block_devs[INGOT_DEVICES_MAX];
extern unsigned host_block_ndevs;

/* block_ring.c: checks and records d's ring; serves it one request at a
 * time (true if any completed). */
int host_block_ring_attach(struct host_block_dev *d, uint64_t va);
bool host_block_ring_service(struct host_block_dev *d);

/* The ring's avail, checked against used (a bad one stops the guest). */
uint32_t host_block_ring_avail(struct host_block_dev *d);

/* Copies the request at ring index i out of guest memory into *io,
 * checked (a broken one stops the guest), and counts it if it is a READ
 * or a WRITE (a FLUSH is counted when it starts). */
void host_block_ring_take(struct host_block_dev *d, uint32_t i,
			  struct host_block_io *io);

/* Gives request i its status (counting an error). */
void host_block_ring_complete(struct host_block_dev *d, uint32_t i, int status);

/* block_uring.c: serves every device's ring through io_uring, if on;
 * the handles that completed requests, one bit each. */
bool host_block_uring_on(void);
uint64_t host_block_uring_service(void);

#endif
