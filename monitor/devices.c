/*
 * The monitor's binding of the network and block devices (host/net.h,
 * host/block.h) to its guest: the image's manifest names them, and guest
 * memory is the VM's.
 */
#include "../host/block.h"
#include "../host/net.h"
#include "monitor.h"

static struct guest *guest;

static void *guest_ptr(uint64_t va, uint64_t len, bool writable)
{
	return vm_guest_ptr(guest, va, len, writable);
}

void devices_setup(struct guest *g)
{
	guest = g;
	host_net_setup(g->img.manifest, g->img.nmanifest, guest_ptr);
	host_block_setup(g->img.manifest, g->img.nmanifest, guest_ptr);
}
