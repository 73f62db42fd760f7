/*
 * The monitor's binding of the block devices (host/block.h) to its guest:
 * the image's manifest names them, and guest memory is the VM's.
 */
#include "../host/block.h"
#include "monitor.h"

static struct guest *guest;

static void *block_guest_ptr(uint64_t va, uint64_t len, bool writable)
{
	return vm_guest_ptr(guest, va, len, writable);
}

void block_setup(struct guest *g)
{
	guest = g;
	host_block_setup(g->img.manifest, g->img.nmanifest, block_guest_ptr);
}
