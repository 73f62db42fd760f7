/*
 * The virtio-pci transport, modern interface (virtio 1.x, 4.1), as QEMU's
 * q35 offers it: devices on PCI bus 0 found through configuration space
 * (ports 0xcf8/0xcfc, at start of day only), their structures located by
 * the vendor capabilities in the BARs the firmware assigned, mapped
 * uncached.  Interrupts are MSI-X, one vector per device for both queues:
 * edge messages, nothing to acknowledge.
 */
#include <stdio.h>

#include "virtio.h"
#include "virtio_dev.h"

#define PCI_ADDR          0xcf8
#define PCI_DATA          0xcfc
#define PCI_VENDOR_VIRTIO 0x1af4
#define PCI_COMMAND       0x04
#define PCI_CMD_MEM       (1u << 1)
#define PCI_CMD_MASTER    (1u << 2)
#define PCI_CMD_NO_INTX   (1u << 10)
#define PCI_STATUS_CAPS   (1u << (16 + 4))
#define PCI_CAP_PTR       0x34
#define PCI_CAP_MSIX      0x11
#define PCI_CAP_VENDOR    0x09
#define MSIX_ENABLE       (1u << 15)
#define MSIX_NO_VECTOR    0xffff

/* Vendor capability types. */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_DEVICE 4

/* The common configuration structure's registers. */
#define COMMON_DFSELECT     0x00
#define COMMON_DF           0x04
#define COMMON_GFSELECT     0x08
#define COMMON_GF           0x0c
#define COMMON_MSIX         0x10
#define COMMON_STATUS       0x14
#define COMMON_Q_SELECT     0x16
#define COMMON_Q_SIZE       0x18
#define COMMON_Q_MSIX       0x1a
#define COMMON_Q_ENABLE     0x1c
#define COMMON_Q_NOTIFY_OFF 0x1e
#define COMMON_Q_DESC       0x20
#define COMMON_Q_DRIVER     0x28
#define COMMON_Q_DEVICE     0x30

static uint32_t cfg_read(unsigned dev, unsigned off)
{
	__asm__ volatile("outl %0, %w1"
			 :
			 : "a"(0x80000000u | dev << 11 | (off & 0xfc)),
			   "Nd"(PCI_ADDR));
	uint32_t v;
	__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(PCI_DATA));
	return v;
}

static void cfg_write(unsigned dev, unsigned off, uint32_t v)
{
	__asm__ volatile("outl %0, %w1"
			 :
			 : "a"(0x80000000u | dev << 11 | (off & 0xfc)),
			   "Nd"(PCI_ADDR));
	__asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"(PCI_DATA));
}

static volatile uint8_t *reg(struct vdev *d, unsigned off)
{
	return d->regs + off;
}

#define R8(d, o)  (*(volatile uint8_t *)reg(d, o))
#define R16(d, o) (*(volatile uint16_t *)(void *)reg(d, o))
#define R32(d, o) (*(volatile uint32_t *)(void *)reg(d, o))

static uint64_t pci_features(struct vdev *d)
{
	R32(d, COMMON_DFSELECT) = 1;
	uint64_t hi = R32(d, COMMON_DF);
	R32(d, COMMON_DFSELECT) = 0;
	return hi << 32 | R32(d, COMMON_DF);
}

static void pci_set_features(struct vdev *d, uint64_t f)
{
	R32(d, COMMON_GFSELECT) = 1;
	R32(d, COMMON_GF) = (uint32_t)(f >> 32);
	R32(d, COMMON_GFSELECT) = 0;
	R32(d, COMMON_GF) = (uint32_t)f;
}

static uint8_t pci_status(struct vdev *d)
{
	return R8(d, COMMON_STATUS);
}

static void pci_set_status(struct vdev *d, uint8_t s)
{
	R8(d, COMMON_STATUS) = s;
}

static uint16_t pci_queue_max(struct vdev *d, uint16_t index)
{
	R16(d, COMMON_Q_SELECT) = index;
	uint16_t n = R16(d, COMMON_Q_SIZE);
	return n > VQ_SIZE_MAX ? VQ_SIZE_MAX : n;
}

static void wr64(struct vdev *d, unsigned off, uint64_t v)
{
	R32(d, off) = (uint32_t)v;
	R32(d, off + 4) = (uint32_t)(v >> 32);
}

static void pci_queue_enable(struct vdev *d, struct vq *q)
{
	R16(d, COMMON_Q_SELECT) = q->index;
	R16(d, COMMON_Q_SIZE) = q->size;
	R16(d, COMMON_Q_MSIX) = 0;
	wr64(d, COMMON_Q_DESC, virt_to_phys(q->desc));
	wr64(d, COMMON_Q_DRIVER, virt_to_phys(q->avail));
	wr64(d, COMMON_Q_DEVICE, virt_to_phys(q->used));
	q->notify = (volatile uint16_t *)(void *)(d->notify +
						  (uint32_t)R16(
						      d, COMMON_Q_NOTIFY_OFF) *
						      d->notify_mul);
	R16(d, COMMON_Q_ENABLE) = 1;
}

static void pci_notify(struct vdev *d, const struct vq *q)
{
	(void)d;
	*q->notify = q->index;
}

static uint8_t pci_config8(struct vdev *d, unsigned off)
{
	return d->config[off];
}

static void pci_irq_ack(struct vdev *d)
{
	(void)d; /* MSI-X: an edge message, nothing to lower */
}

static const struct vdev_ops pci_ops = {
    .features = pci_features,
    .set_features = pci_set_features,
    .status = pci_status,
    .set_status = pci_set_status,
    .queue_max = pci_queue_max,
    .queue_enable = pci_queue_enable,
    .notify = pci_notify,
    .config8 = pci_config8,
    .irq_ack = pci_irq_ack,
};

/* The physical address of memory BAR bar, 0 if it is not one. */
static uint64_t bar_phys(unsigned dev, unsigned bar)
{
	if (bar > 5)
		return 0;
	uint32_t lo = cfg_read(dev, 0x10 + 4 * bar);
	if (lo & 1)
		return 0; /* I/O space */
	uint64_t a = lo & ~0xfULL;
	if (((lo >> 1) & 3) == 2 && bar < 5)
		a |= (uint64_t)cfg_read(dev, 0x14 + 4 * bar) << 32;
	return a;
}

/* len bytes at offset off of BAR bar, mapped uncached; NULL if absent. */
static volatile uint8_t *map_bar(unsigned dev, unsigned bar, uint32_t off,
				 uint32_t len, bool user)
{
	uint64_t base = bar_phys(dev, bar);
	if (!base || !len || len > 1u << 20 || base + off >= 1ULL << 46)
		return NULL;
	uint64_t start = (base + off) & ~0xfffULL, end = base + off + len;
	volatile uint8_t *first = paging_map_device(start, user);
	for (uint64_t p = start + 4096; p < end; p += 4096)
		paging_map_device(p, user);
	return first + ((base + off) & 0xfff);
}

/* Routes MSI-X table entry 0 to vector; false without MSI-X. */
static bool msix(unsigned dev, unsigned cap, unsigned vector)
{
	uint32_t ctl = cfg_read(dev, cap);
	uint32_t table = cfg_read(dev, cap + 4);
	volatile uint32_t *t = (volatile uint32_t *)(void *)map_bar(
	    dev, table & 7, table & ~7u, 16, false);
	if (!t)
		return false;
	t[0] = 0xfee00000u | virtio_lapic_id() << 12;
	t[1] = 0;
	t[2] = vector; /* fixed, edge */
	t[3] = 0;      /* unmasked */
	cfg_write(dev, cap, (ctl | MSIX_ENABLE << 16) & ~(1u << 30));
	return true;
}

/* The device at dev, if its capabilities describe a modern virtio one. */
static void add(unsigned dev, uint32_t id)
{
	char msg[160];
	struct vdev *d = &virtio_devs[virtio_ndevs];
	*d = (struct vdev){.ops = &pci_ops, .irq = virtio_ndevs};
	/* 0x1040 + type for modern devices, 0x1000 + n for transitional. */
	d->device_id = id >= 0x1040 ? id - 0x1040
				    : cfg_read(dev, 0x2c) >> 16; /* subsystem */
	snprintf(d->where, sizeof d->where, "virtio-pci at 00:%02x.0", dev);
	unsigned msix_cap = 0;
	if (cfg_read(dev, PCI_COMMAND) & PCI_STATUS_CAPS)
		for (unsigned c = cfg_read(dev, PCI_CAP_PTR) & 0xfc, n = 0;
		     c && n < 48; c = (cfg_read(dev, c) >> 8) & 0xfc, n++) {
			uint32_t h = cfg_read(dev, c);
			if ((h & 0xff) == PCI_CAP_MSIX)
				msix_cap = c;
			if ((h & 0xff) != PCI_CAP_VENDOR)
				continue;
			unsigned type = (h >> 24) & 0xff;
			unsigned bar = cfg_read(dev, c + 4) & 0xff;
			uint32_t off = cfg_read(dev, c + 8);
			uint32_t len = cfg_read(dev, c + 12);
			volatile uint8_t *p = map_bar(dev, bar, off, len, true);
			if (type == CAP_COMMON && !d->regs)
				d->regs = p;
			else if (type == CAP_NOTIFY && !d->notify) {
				d->notify = p;
				d->notify_mul = cfg_read(dev, c + 16);
			} else if (type == CAP_DEVICE && !d->config)
				d->config = p;
		}
	const char *why = NULL;
	if (!d->regs || !d->notify || !d->config)
		why = "no modern (virtio 1.x) interface";
	else if (!msix_cap)
		why = "no MSI-X";
	if (why) {
		snprintf(msg, sizeof msg, "virtio: %s: %s: ignored\n", d->where,
			 why);
		serial_puts(msg);
		return;
	}
	cfg_write(dev, PCI_COMMAND,
		  (cfg_read(dev, PCI_COMMAND) & 0xffff) | PCI_CMD_MEM |
		      PCI_CMD_MASTER | PCI_CMD_NO_INTX);
	R16(d, COMMON_MSIX) = MSIX_NO_VECTOR; /* no configuration events */
	if (!msix(dev, msix_cap, VIRTIO_DEVICE_VECTOR + virtio_ndevs)) {
		snprintf(msg, sizeof msg,
			 "virtio: %s: MSI-X table out of reach: ignored\n",
			 d->where);
		serial_puts(msg);
		return;
	}
	virtio_ndevs++;
}

void virtio_pci_probe(void)
{
	/* Without a host bridge (microvm) the address port reads back
	 * nothing. */
	__asm__ volatile("outl %0, %w1" : : "a"(0x80000000u), "Nd"(PCI_ADDR));
	uint32_t back;
	__asm__ volatile("inl %w1, %0" : "=a"(back) : "Nd"(PCI_ADDR));
	if (back != 0x80000000u)
		return;
	for (unsigned dev = 0; dev < 32 && virtio_ndevs < VIRTIO_DEVS_MAX;
	     dev++) {
		uint32_t id = cfg_read(dev, 0);
		if ((id & 0xffff) != PCI_VENDOR_VIRTIO)
			continue;
		id >>= 16;
		if (id < 0x1000 || id > 0x107f)
			continue;
		add(dev, id);
	}
}
