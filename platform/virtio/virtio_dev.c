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

struct vdev *vdev_claim(uint32_t device_id)
{
	for (unsigned i = 0; i < virtio_ndevs; i++) {
		struct vdev *d = &virtio_devs[i];
		if (!d->claimed && d->device_id == device_id) {
			d->claimed = true;
			return d;
		}
	}
	return NULL;
}

/* How messages name the drivers' devices. */
struct kind {
	uint32_t device_id, type;
	const char *driver, *noun, *qemu;
};
static const struct kind kinds[] = {
    {VIRTIO_ID_NET, INGOT_DEVICE_NET, "virtio-net", "network interface",
     "virtio-net-device or virtio-net-pci"},
    {VIRTIO_ID_BLOCK, INGOT_DEVICE_BLOCK, "virtio-blk", "block device",
     "virtio-blk-device or virtio-blk-pci"},
};

static const struct kind *kind_of(uint32_t device_id)
{
	for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (kinds[i].device_id == device_id)
			return &kinds[i];
	return NULL;
}

void vdev_match(uint32_t device_id,
		void (*found)(uint32_t handle, struct vdev *d))
{
	const struct kind *k = kind_of(device_id);
	char msg[160];
	for (uint32_t h = 0; h < virtio.info.ndevices; h++) {
		struct ingot_device *info = &virtio.info.devices[h];
		if (info->type != k->type)
			continue;
		struct vdev *d = vdev_claim(device_id);
		if (d) {
			found(h, d);
			continue;
		}
		snprintf(msg, sizeof msg,
			 "%s: no device for %s %s: not attached (QEMU: "
			 "-device %s)\n",
			 k->driver, k->noun, info->name, k->qemu);
		serial_puts(msg);
	}
}

void vdev_report_unclaimed(void)
{
	char msg[160];
	for (unsigned i = 0; i < virtio_ndevs; i++) {
		const struct vdev *d = &virtio_devs[i];
		const struct kind *k = kind_of(d->device_id);
		if (d->claimed)
			continue;
		if (k)
			snprintf(msg, sizeof msg,
				 "%s: %s: the image declares no further %s: "
				 "not used\n",
				 k->driver, d->where, k->noun);
		else
			snprintf(msg, sizeof msg,
				 "virtio: %s: device type %u: not used\n",
				 d->where, d->device_id);
		serial_puts(msg);
	}
}

static bool in(uintptr_t a, size_t len, uintptr_t lo, uintptr_t hi)
{
	return a >= lo && a <= hi && len <= hi - a;
}

bool vdev_dma_ok(uint64_t addr, size_t len, bool write)
{
	const struct ingot_boot_info *bi = &virtio.info;
	uintptr_t a = (uintptr_t)addr;
	uintptr_t image = (uintptr_t)phys_to_virt(VIRTIO_PVH_IMAGE_BASE);
	return in(a, len, bi->heap_start, bi->heap_start + bi->heap_size) ||
	       in(a, len, write ? (uintptr_t)__data_start : image,
		  (uintptr_t)__image_end);
}

uint16_t vdev_queue_size(struct vdev *d, uint16_t index)
{
	uint16_t max = d->ops->queue_max(d, index), s = 1;
	if (!max)
		return 0;
	while ((uint16_t)(s * 2) <= max && s * 2 <= VQ_SIZE_MAX)
		s = (uint16_t)(s * 2);
	return s;
}

bool vdev_ring_ok(const void *ring, size_t hdr, size_t slot, uint32_t max)
{
	uintptr_t a = (uintptr_t)ring;
	if (a % 8 || !vdev_dma_ok(a, hdr, true))
		return false;
	uint32_t size = *(const volatile uint32_t *)ring;
	return size && size <= max && !(size & (size - 1)) &&
	       vdev_dma_ok(a, hdr + size * slot, true);
}
