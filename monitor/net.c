/*
 * The monitor's binding of the network devices (host/net.h) to its guest:
 * the image's manifest names them, and guest memory is the VM's.
 */
#include "../host/net.h"
#include "monitor.h"

static struct guest *guest;

static void *guest_ptr(uint64_t va, uint64_t len, bool writable)
{
	return vm_guest_ptr(guest, va, len, writable);
}

void net_setup(struct guest *g)
{
	guest = g;
	host_net_setup(g->img.manifest, g->img.nmanifest, guest_ptr);
}
