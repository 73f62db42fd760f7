/* What virtio devices share, whatever their transport: see virtio_dev.h. */
#include <stdio.h>

#include "virtio.h"
#include "virtio_dev.h"

struct vdev virtio_devs[VIRTIO_DEVS_MAX];
unsigned virtio_ndevs;
volatile uint32_t virtio_irq_pending;

uint32_t virtio_lapic_id(void)
{
	uint64_t base = rdmsr(0x1b);
	if (base & (1 << 10))
		return (uint32_t)rdmsr(0x802); /* x2APIC */
	volatile uint8_t *xapic = paging_map_device(base & ~0xfffULL, false);
	return *(volatile uint32_t *)(xapic + 0x20) >> 24;
}

uint64_t vdev_negotiate(struct vdev *d, uint64_t want)
{
	const uint8_t s = VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER;
	d->ops->set_features(d, want);
	d->ops->set_status(d, s | VIRTIO_STATUS_FEATURES_OK);
	if (d->ops->status(d) & VIRTIO_STATUS_FEATURES_OK)
		return want;
	char msg[120];
	snprintf(msg, sizeof msg, "virtio: %s refused features %#llx\n",
		 d->where, (unsigned long long)want);
	serial_puts(msg);
	d->ops->set_status(d, VIRTIO_STATUS_FAILED);
	return 0;
}
