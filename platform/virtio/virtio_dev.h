/*
 * A virtio device behind either transport (virtio_mmio.c, virtio_pci.c):
 * the few operations the device drivers (virtio_net.c, virtio_blk.c) need.
 */
#ifndef PLATFORM_VIRTIO_DEV_H
#define PLATFORM_VIRTIO_DEV_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio_asm.h"
#include "virtio_queue.h"

#define VIRTIO_ID_NET   1
#define VIRTIO_ID_BLOCK 2

#define VIRTIO_STATUS_ACK         1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED      128

#define VIRTIO_F_EVENT_IDX (1ULL << 29)
#define VIRTIO_F_VERSION_1 (1ULL << 32)

/* One device vector each (virtio_asm.h), the last the console's input
 * (virtio_operator.c). */
#define VIRTIO_DEVS_MAX    (VIRTIO_DEVICE_VECTORS - 1)
#define VIRTIO_CONSOLE_IRQ VIRTIO_DEVS_MAX

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
	bool claimed;             /* a device of the manifest uses it */
	char where[40];           /* for messages */
};

/* Devices found, in order (virtio_mmio.c, virtio_pci.c fill this). */
extern struct vdev virtio_devs[VIRTIO_DEVS_MAX];
extern unsigned virtio_ndevs;

/* Interrupts seen by the device vectors (trap.S), one bit per vdev. */
extern volatile uint32_t virtio_irq_pending;

/* This CPU's APIC id, for interrupts routed to it (boot only: CPL 0). */
uint32_t virtio_lapic_id(void);
/* Routes GSI gsi to vector, edge-triggered, active high, to this CPU;
 * false for a GSI past both IOAPICs (boot only: CPL 0). */
bool virtio_ioapic_route(unsigned gsi, unsigned vector);

/* Resets d, and negotiates: returns the features both sides take, or 0
 * after a message if the device refuses them (FEATURES_OK not kept). */
uint64_t vdev_negotiate(struct vdev *d, uint64_t want);

/* The next device of type device_id no driver has claimed, in discovery
 * order (QEMU's command line order), now claimed; NULL if none is left. */
struct vdev *vdev_claim(uint32_t device_id);
/* Gives each device of the manifest that a virtio device of device_id
 * (VIRTIO_ID_NET or _BLOCK) serves the next unclaimed one, in order
 * (found(its handle, the device)); a missing one gets a message. */
void vdev_match(uint32_t device_id,
		void (*found)(uint32_t handle, struct vdev *d));
/* A message for each device the manifest left unused. */
void vdev_report_unclaimed(void);

/* Whether a guest's ring (abi.h: its size the first word, hdr bytes, then
 * size slots of slot bytes) is 8-aligned in guest-writable memory with a
 * size a power of two up to max. */
bool vdev_ring_ok(const void *ring, size_t hdr, size_t slot, uint32_t max);

/* Whether a device may read (write: false) or write guest memory
 * [addr, addr + len): the image and the heap to read, its data and the
 * heap to write; never the page tables or the stacks. */
bool vdev_dma_ok(uint64_t addr, size_t len, bool write);

/* The largest power of two queue index takes (0: no such queue). */
uint16_t vdev_queue_size(struct vdev *d, uint16_t index);

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
/* After a wait: pending is virtio_irq_pending's bits, taken. */
void vnet_woken(uint32_t pending);

/* virtio_blk.c: the same for the block devices. */
void vblk_setup(void);
int vblk_attach(uint32_t handle, struct ingot_block_ring *ring);
uint64_t vblk_service(void);
bool vblk_arm(void);
void vblk_woken(uint32_t pending);

/* virtio_operator.c: requests on the console's input (QEMU's stdin). */
void operator_setup(void);
void operator_woken(uint32_t pending);
/* The INGOT_READY_STOP and _REPORT bits asked since the last call. */
uint64_t operator_take(void);

#endif
