/*
 * A virtio device behind either transport (virtio_mmio.c, virtio_pci.c):
 * the few operations the device drivers (virtio_net.c) need.
 */
#ifndef PLATFORM_VIRTIO_DEV_H
#define PLATFORM_VIRTIO_DEV_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio_queue.h"

#define VIRTIO_ID_NET 1

#define VIRTIO_STATUS_ACK         1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED      128

#define VIRTIO_F_EVENT_IDX (1ULL << 29)
#define VIRTIO_F_VERSION_1 (1ULL << 32)

#define VIRTIO_DEVS_MAX 16

struct vdev;

struct vdev_ops {
	uint64_t (*features)(struct vdev *d);
	void (*set_features)(struct vdev *d, uint64_t f);
	uint8_t (*status)(struct vdev *d);
	void (*set_status)(struct vdev *d, uint8_t s);
	uint16_t (*queue_max)(struct vdev *d, uint16_t index);
	/* Hands q (its size and memory) to the device and enables it. */
	void (*queue_enable)(struct vdev *d, struct vq *q);
	void (*notify)(struct vdev *d, const struct vq *q);
	uint8_t (*config8)(struct vdev *d, unsigned offset);
	/* After an interrupt: lets the device raise the next one. */
	void (*irq_ack)(struct vdev *d);
};

struct vdev {
	const struct vdev_ops *ops;
	uint32_t device_id;
	volatile uint8_t *regs;   /* MMIO: the registers; PCI: common config */
	volatile uint8_t *notify; /* PCI: the notification area */
	uint32_t notify_mul;      /* PCI: its per-queue multiplier */
	volatile uint8_t *config; /* PCI: the device's config */
	unsigned irq;             /* bit in virtio_irq_pending */
	char where[40];           /* for messages */
};

/* Devices found, in order (virtio_mmio.c, virtio_pci.c fill this). */
extern struct vdev virtio_devs[VIRTIO_DEVS_MAX];
extern unsigned virtio_ndevs;

/* Interrupts seen by the device vectors (trap.S), one bit per vdev. */
extern volatile uint32_t virtio_irq_pending;

/* This CPU's APIC id, for interrupts routed to it (boot only: CPL 0). */
uint32_t virtio_lapic_id(void);

/* Resets d, and negotiates: returns the features both sides take, or 0
 * after a message if the device refuses them (FEATURES_OK not kept). */
uint64_t vdev_negotiate(struct vdev *d, uint64_t want);

/* Discovery.  MMIO devices come from the command line's
 * virtio_mmio.device=SIZE@ADDR:IRQ entries, which virtio_mmio_arg takes
 * (true) out of the image's arguments. */
bool virtio_mmio_arg(const char *arg);
void virtio_mmio_probe(void);
void virtio_pci_probe(void);

/* virtio_net.c: the network devices of the manifest, at start of day. */
void vnet_setup(void);
int vnet_attach(uint32_t handle, struct ingot_net_ring *tx,
		struct ingot_net_ring *rx);
/* Serves every attached device's rings: returns the handles with news. */
uint64_t vnet_service(void);
/* Before sleeping: interrupts armed; false if news came meanwhile. */
bool vnet_arm(void);
void vnet_woken(void);

#endif
