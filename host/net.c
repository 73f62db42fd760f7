/* The network devices, by handle: see net.h. */
#include <errno.h>
#include <string.h>

#include "device.h"
#include "fds.h"
#include "msg.h"
#include "net.h"
#include "net_dev.h"
#include "sys.h"

void host_net_setup(const struct ingot_manifest_entry *manifest,
		    unsigned nmanifest, host_guest_ptr_fn *guest_ptr)
{
	for (unsigned i = 0; i < host_net_ndevs; i++) {
		struct host_net_dev *d = &host_net_devs[i];
		d->handle = host_device_handle(manifest, nmanifest,
					       INGOT_DEVICE_NET, d->name);
		if (d->handle < 0)
			host_fail("--net %s: the image declares no network "
				  "device of that name",
				  d->name);
		d->fd = HOST_NET_FD_BASE + d->handle;
		host_device_move_fd(host_net_open(d), d->fd, "--net", d->name);
		d->ring = (struct host_ring_dev){
		    .name = d->name,
		    .ops = &host_net_backend_ops,
		    .ctx = d,
		    .guest_ptr = guest_ptr,
		    .offered = host_net_offers(d),
		};
	}
}

unsigned host_net_count(void)
{
	return host_net_ndevs;
}

static struct host_net_dev *find(unsigned handle)
{
	for (unsigned i = 0; i < host_net_ndevs; i++)
		if (host_net_devs[i].handle == (int)handle)
			return &host_net_devs[i];
	return NULL;
}

bool host_net_info(unsigned handle, struct ingot_net_info *info)
{
	const struct host_net_dev *d = find(handle);
	if (!d)
		return false;
	memcpy(info->mac, d->mac, 6);
	info->mtu = d->mtu;
	info->features = d->ring.offered;
	return true;
}

int host_net_attach(unsigned handle, uint64_t tx_va, uint64_t rx_va)
{
	struct host_net_dev *d = find(handle);
	return d ? host_ring_attach(&d->ring, tx_va, rx_va) : -ENODEV;
}

uint64_t host_net_service(void)
{
	uint64_t ready = 0;
	for (unsigned i = 0; i < host_net_ndevs; i++)
		if (host_ring_service(&host_net_devs[i].ring))
			ready |= 1ULL << host_net_devs[i].handle;
	return ready;
}

unsigned host_net_pollfds(struct kernel_pollfd *fds, uint64_t wake)
{
	unsigned n = 0;
	for (unsigned i = 0; i < host_net_ndevs; i++) {
		short ev = host_ring_poll_events(&host_net_devs[i].ring);
		if (!(wake >> host_net_devs[i].handle & 1))
			ev &= ~POLLIN;
		if (ev)
			fds[n++] =
			    (struct kernel_pollfd){host_net_devs[i].fd, ev, 0};
	}
	return n;
}

void host_net_fds(void (*fn)(void *ctx, int fd), void *ctx)
{
	for (unsigned i = 0; i < host_net_ndevs; i++)
		fn(ctx, host_net_devs[i].fd);
}

void host_net_report(void)
{
	host_net_uring_report();
	for (unsigned i = 0; i < host_net_ndevs; i++) {
		const struct host_net_dev *d = &host_net_devs[i];
		const struct host_ring_counters *c = &d->ring.count;
		host_msg("net %s (%s): in %lu frames (%lu TSO) %lu bytes, out "
			 "%lu frames (%lu TSO) %lu bytes, dropped %lu too big "
			 "%lu refused, %lu receive errors",
			 d->name, d->backend, (unsigned long)c->frames_in,
			 (unsigned long)c->frames_in_tso,
			 (unsigned long)c->bytes_in,
			 (unsigned long)c->frames_out,
			 (unsigned long)c->frames_out_tso,
			 (unsigned long)c->bytes_out,
			 (unsigned long)c->dropped_in_too_big,
			 (unsigned long)c->dropped_out_error,
			 (unsigned long)c->errors_in);
	}
}
