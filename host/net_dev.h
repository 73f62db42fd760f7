/* host/net internals: a network device and its backend. */
#ifndef HOST_NET_DEV_H
#define HOST_NET_DEV_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stdint.h>

#include "net_ring.h"

/* "udp:65535:65535" and a tap device's name (IFNAMSIZ) both fit. */
#define HOST_NET_BACKEND_MAX 16

/* A tap's queue toward the guest, in frames (,queue=N): see net_backend.c. */
#define HOST_NET_QUEUE_MAX 65536

struct host_net_dev {
	char name[INGOT_DEVICE_NAME_MAX + 1];
	char backend[HOST_NET_BACKEND_MAX]; /* as given: TAP or udp:L:R */
	bool udp;
	uint16_t port[2]; /* udp: local, remote */
	uint8_t mac[6];
	bool no_offload; /* ,offload=off: offer the guest none */
	uint16_t mtu;    /* ,mtu=N: the guest's MTU (IP bytes), 1500 */
	uint32_t queue; /* ,queue=N: the tap's queue raised to N frames, or 0 */
	int handle;     /* -1 until setup */
	int fd;
	struct host_ring_dev ring;
};

extern struct host_net_dev host_net_devs[INGOT_DEVICES_MAX];
extern unsigned host_net_ndevs;

/* net_backend.c: opens d's backend (host_fail if it cannot); frames in
 * and out of it. */
int host_net_open(struct host_net_dev *d);
uint32_t host_net_offers(const struct host_net_dev *d);
extern const struct host_ring_ops host_net_backend_ops;

/* A tap's virtio-net header (16 bytes of room, 8-aligned) for a frame to
 * send; and a received one's: the frame's length after a read of rc bytes
 * (or rc's error, or -EPROTO), its offloads in *f. */
void host_net_put_header(void *hdr, const struct host_frame *f);
int host_net_take_header(const void *hdr, long rc, struct host_frame *f);

/* net_uring.c: how many reads and writes went in how many system calls. */
void host_net_uring_report(void);

#endif
