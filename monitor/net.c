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

bool net_device_info(unsigned handle, struct ingot_net_info *info)
{
	return host_net_info(handle, info);
}

int net_attach(unsigned handle, uint64_t tx, uint64_t rx)
{
	return host_net_attach(handle, tx, rx);
}

void net_allow_fds(void (*allow)(void *ctx, int fd), void *ctx)
{
	host_net_fds(allow, ctx);
}
