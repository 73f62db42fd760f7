/*
 * Network devices on tap interfaces: --net NAME=TAP[,mac=MAC].  Frames move
 * between the tap file descriptor and the guest's rings in place (read and
 * write straight into guest memory), in batches, whenever the guest polls.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "monitor.h"

struct net_tap {
	char name[INGOT_DEVICE_NAME_MAX + 1];
	char tap[IFNAMSIZ];
	uint8_t mac[6];
	int fd;
	int handle; /* in the boot info; -1 until the image is known */
	struct net_host_dev dev;
};

static struct net_tap taps[INGOT_DEVICES_MAX];
static unsigned ntaps;
static struct guest *guest;

const char *net_parse_option(const char *arg)
{
	static char err[128];
	struct net_tap *t = &taps[ntaps];
	const char *eq = strchr(arg, '='), *comma;

	if (ntaps == INGOT_DEVICES_MAX)
		return "too many --net options";
	if (!eq || eq == arg || (size_t)(eq - arg) > INGOT_DEVICE_NAME_MAX)
		return "--net wants NAME=TAP[,mac=MAC]";
	memcpy(t->name, arg, eq - arg);
	t->name[eq - arg] = '\0';
	for (unsigned i = 0; i < ntaps; i++)
		if (strcmp(taps[i].name, t->name) == 0) {
			snprintf(err, sizeof err, "--net: '%s' given twice",
				 t->name);
			return err;
		}
	comma = strchr(eq + 1, ',');
	size_t tlen = comma ? (size_t)(comma - eq - 1) : strlen(eq + 1);
	if (!tlen || tlen >= IFNAMSIZ)
		return "--net: bad tap device name";
	memcpy(t->tap, eq + 1, tlen);
	t->tap[tlen] = '\0';
	net_default_mac(t->tap, t->mac);
	if (comma) {
		if (strncmp(comma + 1, "mac=", 4) != 0 ||
		    !net_parse_mac(comma + 5, t->mac))
			return "--net: expected ,mac=XX:XX:XX:XX:XX:XX "
			       "(unicast)";
	}
	t->fd = -1;
	t->handle = -1;
	ntaps++;
	return NULL;
}

static void *guest_ptr(void *ctx, uint64_t va, uint64_t len, bool writable)
{
	(void)ctx;
	return vm_guest_ptr(guest, va, len, writable);
}

static int tap_send(void *ctx, const void *frame, uint32_t len)
{
	struct net_tap *t = ctx;
	for (;;) {
		ssize_t n = write(t->fd, frame, len);
		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return errno == EAGAIN ? -EAGAIN : -errno;
	}
}

static int tap_recv(void *ctx, void *buf, uint32_t cap)
{
	struct net_tap *t = ctx;
	unsigned char spill;
	struct iovec iov[2] = {{buf, cap}, {&spill, 1}};
	for (;;) {
		ssize_t n = readv(t->fd, iov, 2);
		if (n > (ssize_t)cap)
			return -EMSGSIZE;
		if (n >= 0)
			return (int)n;
		if (errno != EINTR)
			return errno == EAGAIN ? -EAGAIN : -errno;
	}
}

static _Noreturn void violation(void *ctx, const char *what)
{
	mon_stop(guest, "%s (device %s)", what, ((struct net_tap *)ctx)->name);
}

static const struct net_host_ops tap_ops = {
    .guest_ptr = guest_ptr,
    .send = tap_send,
    .recv = tap_recv,
    .violation = violation,
};

static void open_tap(struct net_tap *t)
{
	struct ifreq ifr = {0};

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		mon_fail("--net %s: cannot open /dev/net/tun: %m", t->name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, t->tap, strlen(t->tap));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		mon_fail("--net %s: cannot attach to tap device %s: %m",
			 t->name, t->tap);
}

void net_setup(struct guest *g)
{
	const struct image *img = &g->img;

	guest = g;
	for (unsigned i = 0; i < ntaps; i++) {
		struct net_tap *t = &taps[i];
		for (unsigned m = 0; m < img->nmanifest; m++)
			if (img->manifest[m].type == INGOT_DEVICE_NET &&
			    strcmp(img->manifest[m].name, t->name) == 0)
				t->handle = (int)m;
		if (t->handle < 0)
			mon_fail("--net %s: %s declares no network device of "
				 "that name",
				 t->name, img->path);
		open_tap(t);
		t->dev.ops = &tap_ops;
		t->dev.ctx = t;
	}
}

bool net_device_info(unsigned handle, struct ingot_net_info *info)
{
	for (unsigned i = 0; i < ntaps; i++)
		if (taps[i].handle == (int)handle) {
			memcpy(info->mac, taps[i].mac, 6);
			info->mtu = 1500;
			return true;
		}
	return false;
}

int net_attach(unsigned handle, uint64_t tx, uint64_t rx)
{
	for (unsigned i = 0; i < ntaps; i++)
		if (taps[i].handle == (int)handle)
			return net_host_attach(&taps[i].dev, tx, rx);
	return -ENODEV;
}

uint64_t net_service(void)
{
	uint64_t ready = 0;
	for (unsigned i = 0; i < ntaps; i++)
		if (net_host_service(&taps[i].dev))
			ready |= 1ULL << taps[i].handle;
	return ready;
}

_Static_assert(NET_HOST_POLLIN == POLLIN && NET_HOST_POLLOUT == POLLOUT,
	       "poll events");

unsigned net_pollfds(struct pollfd *fds)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ntaps; i++) {
		short ev = net_host_poll_events(&taps[i].dev);
		if (ev)
			fds[n++] = (struct pollfd){taps[i].fd, ev, 0};
	}
	return n;
}

void net_allow_fds(void (*allow)(void *ctx, int fd), void *ctx)
{
	for (unsigned i = 0; i < ntaps; i++)
		allow(ctx, taps[i].fd);
}

void net_report(void)
{
	for (unsigned i = 0; i < ntaps; i++) {
		const struct net_host_counters *c = &taps[i].dev.count;
		mon_msg("net %s (%s): in %lu frames %lu bytes, out %lu frames "
			"%lu bytes, dropped %lu too big %lu refused, %lu receive "
			"errors",
			taps[i].name, taps[i].tap, (unsigned long)c->frames_in,
			(unsigned long)c->bytes_in,
			(unsigned long)c->frames_out,
			(unsigned long)c->bytes_out,
			(unsigned long)c->dropped_in_too_big,
			(unsigned long)c->dropped_out_error,
			(unsigned long)c->errors_in);
	}
	if (ntaps)
		mon_msg("vcpu: %lu exits, %lu polls, %lu of them slept",
			(unsigned long)guest->stats.exits,
			(unsigned long)guest->stats.polls,
			(unsigned long)guest->stats.sleeps);
}
