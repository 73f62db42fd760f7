/*
 * The virtio-mmio transport, modern interface (virtio 1.x, 4.2.2), as QEMU
 * microvm and Firecracker offer it.  Devices are named on the kernel
 * command line (virtio_mmio.device=SIZE@ADDR:IRQ, which QEMU adds when
 * microvm runs without ACPI, and Firecracker always), else found by probing
 * microvm's window of transports.  Their interrupt lines go through the
 * IOAPIC, edge-triggered: the line stays up until irq_ack, one MMIO write.
 */
#include <stdio.h>
#include <string.h>

#include "virtio.h"
#include "virtio_dev.h"

#define MMIO_MAGIC           0x000
#define MMIO_VERSION         0x004
#define MMIO_DEVICE_ID       0x008
#define MMIO_DEVICE_FEATURES 0x010
#define MMIO_DEVICE_FSEL     0x014
#define MMIO_DRIVER_FEATURES 0x020
#define MMIO_DRIVER_FSEL     0x024
#define MMIO_QUEUE_SEL       0x030
#define MMIO_QUEUE_NUM_MAX   0x034
#define MMIO_QUEUE_NUM       0x038
#define MMIO_QUEUE_READY     0x044
#define MMIO_QUEUE_NOTIFY    0x050
#define MMIO_INTERRUPT_ACK   0x064
#define MMIO_STATUS          0x070
#define MMIO_QUEUE_DESC      0x080
#define MMIO_QUEUE_DRIVER    0x090
#define MMIO_QUEUE_DEVICE    0x0a0
#define MMIO_CONFIG          0x100
#define MMIO_MAGIC_VALUE     0x74726976 /* "virt" */

/* microvm: 24 transports of 512 bytes; with ACPI (its default) their
 * lines are the second IOAPIC's (GSI 24 on), without it GSI 5 on. */
#define MICROVM_MMIO_BASE  0xfeb00000ULL
#define MICROVM_TRANSPORTS 24
#define IOAPIC_BASE        0xfec00000ULL
#define IOAPIC2_BASE       0xfec10000ULL
#define IOAPIC_PINS        24

static uint32_t rd(struct vdev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->regs + off);
}

static void wr(struct vdev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->regs + off) = v;
}

static void wr64(struct vdev *d, unsigned off, uint64_t v)
{
	wr(d, off, (uint32_t)v);
	wr(d, off + 4, (uint32_t)(v >> 32));
}

static uint64_t mmio_features(struct vdev *d)
{
	wr(d, MMIO_DEVICE_FSEL, 1);
	uint64_t hi = rd(d, MMIO_DEVICE_FEATURES);
	wr(d, MMIO_DEVICE_FSEL, 0);
	return hi << 32 | rd(d, MMIO_DEVICE_FEATURES);
}

static void mmio_set_features(struct vdev *d, uint64_t f)
{
	wr(d, MMIO_DRIVER_FSEL, 1);
	wr(d, MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(d, MMIO_DRIVER_FSEL, 0);
	wr(d, MMIO_DRIVER_FEATURES, (uint32_t)f);
}

static uint8_t mmio_status(struct vdev *d)
{
	return (uint8_t)rd(d, MMIO_STATUS);
}

static void mmio_set_status(struct vdev *d, uint8_t s)
{
	wr(d, MMIO_STATUS, s);
}

static uint16_t mmio_queue_max(struct vdev *d, uint16_t index)
{
	wr(d, MMIO_QUEUE_SEL, index);
	uint32_t n = rd(d, MMIO_QUEUE_NUM_MAX);
	return n > VQ_SIZE_MAX ? VQ_SIZE_MAX : (uint16_t)n;
}

static void mmio_queue_enable(struct vdev *d, struct vq *q)
{
	wr(d, MMIO_QUEUE_SEL, q->index);
	wr(d, MMIO_QUEUE_NUM, q->size);
	wr64(d, MMIO_QUEUE_DESC, virt_to_phys(q->desc));
	wr64(d, MMIO_QUEUE_DRIVER, virt_to_phys(q->avail));
	wr64(d, MMIO_QUEUE_DEVICE, virt_to_phys(q->used));
	wr(d, MMIO_QUEUE_READY, 1);
}

static void mmio_notify(struct vdev *d, const struct vq *q)
{
	wr(d, MMIO_QUEUE_NOTIFY, q->index);
}

static uint8_t mmio_config8(struct vdev *d, unsigned off)
{
	return d->regs[MMIO_CONFIG + off];
}

static void mmio_irq_ack(struct vdev *d)
{
	wr(d, MMIO_INTERRUPT_ACK, 3); /* used buffers, configuration */
}

static const struct vdev_ops mmio_ops = {
    .features = mmio_features,
    .set_features = mmio_set_features,
    .status = mmio_status,
    .set_status = mmio_set_status,
    .queue_max = mmio_queue_max,
    .queue_enable = mmio_queue_enable,
    .notify = mmio_notify,
    .config8 = mmio_config8,
    .irq_ack = mmio_irq_ack,
};

bool virtio_ioapic_route(unsigned gsi, unsigned vector)
{
	uint64_t base = gsi < IOAPIC_PINS ? IOAPIC_BASE : IOAPIC2_BASE;
	unsigned pin = gsi % IOAPIC_PINS;
	if (gsi >= 2 * IOAPIC_PINS)
		return false;
	volatile uint32_t *io = paging_map_device(base, false);
	io[0] = 0x10 + 2 * pin + 1;
	io[4] = virtio_lapic_id() << 24;
	io[0] = 0x10 + 2 * pin;
	io[4] = vector;
	return true;
}

static bool listed; /* the command line named devices: no probing */

static void add(uint64_t phys, unsigned gsi, bool probing)
{
	char msg[200];
	if (virtio_ndevs == VIRTIO_DEVS_MAX) {
		snprintf(msg, sizeof msg,
			 "virtio: more than %d devices: virtio-mmio at %#llx "
			 "ignored\n",
			 VIRTIO_DEVS_MAX, (unsigned long long)phys);
		serial_puts(msg);
		return;
	}
	struct vdev *d = &virtio_devs[virtio_ndevs];
	*d = (struct vdev){.ops = &mmio_ops, .irq = virtio_ndevs};
	d->regs = (uint8_t *)paging_map_device(phys & ~0xfffULL, true) +
		  (phys & 0xfff);
	if (rd(d, MMIO_MAGIC) != MMIO_MAGIC_VALUE) {
		if (!probing) {
			snprintf(msg, sizeof msg,
				 "virtio: no virtio-mmio device at %#llx\n",
				 (unsigned long long)phys);
			serial_puts(msg);
		}
		return;
	}
	d->device_id = rd(d, MMIO_DEVICE_ID);
	if (!d->device_id)
		return; /* a transport with nothing behind it */
	uint32_t version = rd(d, MMIO_VERSION);
	snprintf(d->where, sizeof d->where, "virtio-mmio at %#llx",
		 (unsigned long long)phys);
	if (version != 2) {
		snprintf(msg, sizeof msg,
			 "virtio: %s has the legacy interface (version %u): "
			 "ignored (QEMU: -global "
			 "virtio-mmio.force-legacy=false)\n",
			 d->where, version);
		serial_puts(msg);
		return;
	}
	if (!virtio_ioapic_route(gsi, VIRTIO_DEVICE_VECTOR + virtio_ndevs)) {
		snprintf(msg, sizeof msg,
			 "virtio: %s: interrupt %u out of reach: ignored\n",
			 d->where, gsi);
		serial_puts(msg);
		return;
	}
	virtio_ndevs++;
}

/* A number in C's notation (0x for hex), and a K/M/G size suffix. */
static bool number(const char **s, uint64_t *v, bool suffix)
{
	const char *p = *s;
	unsigned base = 10;
	uint64_t n = 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	const char *start = p;
	for (;; p++) {
		unsigned dgt;
		if (*p >= '0' && *p <= '9')
			dgt = (unsigned)(*p - '0');
		else if (base == 16 && (*p | 32) >= 'a' && (*p | 32) <= 'f')
			dgt = (unsigned)((*p | 32) - 'a' + 10);
		else
			break;
		if (n > (UINT64_MAX - dgt) / base)
			return false;
		n = n * base + dgt;
	}
	if (p == start)
		return false;
	if (suffix && (*p == 'K' || *p == 'k'))
		n <<= 10, p++;
	else if (suffix && (*p == 'M' || *p == 'm'))
		n <<= 20, p++;
	*s = p;
	*v = n;
	return true;
}

bool virtio_mmio_arg(const char *arg)
{
	static const char key[] = "virtio_mmio.device=";
	if (strncmp(arg, key, sizeof key - 1))
		return false;
	const char *s = arg + sizeof key - 1;
	uint64_t size, addr, irq;
	if (!number(&s, &size, true) || *s++ != '@' ||
	    !number(&s, &addr, false) || *s++ != ':' ||
	    !number(&s, &irq, false) || *s || size < MMIO_CONFIG ||
	    addr >= 1ULL << 32 || irq > 255) {
		serial_puts("virtio: malformed ");
		serial_puts(arg);
		serial_puts(": ignored\n");
		return true;
	}
	listed = true;
	add(addr, (unsigned)irq, false);
	return true;
}

/* Probed from the top: QEMU gives the first -device the last transport,
 * so this finds devices in the order of QEMU's command line. */
void virtio_mmio_probe(void)
{
	if (listed)
		return;
	volatile uint32_t *io2 = paging_map_device(IOAPIC2_BASE, false);
	io2[0] = 1; /* the version register: 0 where there is no IOAPIC */
	bool acpi = io2[4] != 0 && io2[4] != 0xffffffff;
	for (int i = MICROVM_TRANSPORTS - 1; i >= 0; i--)
		add(MICROVM_MMIO_BASE + 512ULL * (unsigned)i,
		    (acpi ? IOAPIC_PINS : 5) + (unsigned)i, true);
}
