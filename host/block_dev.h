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
};

extern struct host_block_dev host_block_devs[INGOT_DEVICES_MAX];
extern unsigned host_block_ndevs;

/* block_ring.c: checks and records d's ring; serves it (true if any
 * request completed). */
int host_block_ring_attach(struct host_block_dev *d, uint64_t va);
bool host_block_ring_service(struct host_block_dev *d);

#endif
