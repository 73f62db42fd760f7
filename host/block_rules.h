/*
 * The rules of a block request (abi.h, "Block devices"), shared by every
 * host of a block ring: ingot-kvm and the hosted target (block_ring.c) and
 * the virtio target's platform (platform/virtio/virtio_blk.c).
 */
#ifndef HOST_BLOCK_RULES_H
#define HOST_BLOCK_RULES_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stdint.h>

/* The geometry a request is checked against. */
struct host_block_geometry {
	uint64_t sectors;
	uint32_t sector_size;
	bool ro;
};

/* Why r breaks the rules on a device of geometry g, as the words that
 * follow "block request " in the message that stops the guest, or NULL.
 * Whether its buffer is guest memory is the caller's to check. */
const char *host_block_rule_broken(const struct ingot_block_req *r,
				   const struct host_block_geometry *g);

/* The message's details after those words: the request and the device. */
int host_block_describe(char *buf, size_t len, const char *device,
			const struct ingot_block_req *r,
			const struct host_block_geometry *g);

#endif
