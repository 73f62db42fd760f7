/*
 * virtio-blk: the platform is the "host" of the ingot block rings (abi.h,
 * "Block devices").  At every ingot_poll it turns the requests the guest
 * put on its ring into chains on the device's queue (a header and a status
 * byte of the platform's own around the guest's buffer, never copied), and
 * hands completions back in ring order, whatever order the device finished
 * them in.
 *
 * The device runs the requests it holds concurrently, so the ring's order
 * is kept where it matters: a request overlapping one still on the queue,
 * either of them a WRITE, waits for it; a FLUSH waits until everything
 * before it completed, and nothing after it starts before it completes.
 * A FLUSH is VIRTIO_BLK_T_FLUSH where the device offers it; a device
 * without VIRTIO_BLK_F_FLUSH is write-through (the spec's rule), so there
 * it completes at once.  What durability that buys on QEMU
 * depends on its cache= mode: README, "Block devices on the virtio target".
 *
 * The guest's requests are checked by ingot-kvm's rules
 * (host/block_rules.c), with its messages; the device is checked as well: a
 * completion of a chain it was not given, a length past the buffers it may
 * write, or a status byte outside the spec's three stop the guest.  A READ
 * reported done with fewer bytes than asked fails with -EIO.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../host/block_rules.h"
#include "virtio.h"
#include "virtio_dev.h"

#define BLK_F_SIZE_MAX (1ULL << 1)
#define BLK_F_SEG_MAX  (1ULL << 2)
#define BLK_F_RO       (1ULL << 5)
#define BLK_F_BLK_SIZE (1ULL << 6)
#define BLK_F_FLUSH    (1ULL << 9)

/* struct virtio_blk_config */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX  12
#define CFG_BLK_SIZE 20

#define T_IN    0
#define T_OUT   1
#define T_FLUSH 4

#define S_OK     0
#define S_IOERR  1
#define S_UNSUPP 2
#define S_UNSET  0xff /* what the device must overwrite */

#define VIRTIO_SECTOR 512
/* Data descriptors per request at most: a device whose segments are so
 * small that 1 MiB takes more is not used. */
#define SEGS_MAX 16

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector; /* in 512-byte units, whatever the block size */
};

struct vblk {
	struct vdev *dev;
	struct ingot_device *info;
	uint64_t offered, taken;
	unsigned shift;     /* log2(sector_size / 512) */
	uint32_t seg_bytes; /* the largest data descriptor */
	uint32_t segs_max;  /* data descriptors of the largest request */
	struct host_block_geometry geometry;
	bool attached;
	struct ingot_block_ring *ring;
	uint32_t mask;
	struct vq q;
	/* Ring slots [used, posted) are on the queue or done, not yet
	 * handed back; req holds each one's request as checked. */
	uint32_t used, posted;
	uint32_t inflight; /* requests on the queue */
	bool flushing;     /* a FLUSH is on the queue: nothing passes it */
	struct ingot_block_req *req; /* per ring slot */
	int32_t *status;             /* per ring slot, once done */
	uint8_t *done;               /* per ring slot */
	struct blk_hdr *hdr;         /* per queue head */
	uint8_t *st;                 /* per queue head: the device's status */
	uint32_t *slot_of;           /* per queue head */
	uint32_t *writable;          /* per queue head: bytes it may write */
};

static struct vblk blks[INGOT_DEVICES_MAX]; /* by handle */

static _Noreturn void stop(const struct vblk *b, const char *what)
{
	char msg[200];
	snprintf(msg, sizeof msg, "ingot: stopped: %s (device %s, %s)\n", what,
		 b->info->name, b->dev->where);
	serial_puts(msg);
	virtio_exit_raw(INGOT_EXIT_STOPPED);
}

/* A request against the ring's rules, in host/block_ring.c's words. */
static _Noreturn void violation(const struct vblk *b, const char *what,
				const struct ingot_block_req *r)
{
	char msg[280];
	int n = snprintf(msg, sizeof msg, "ingot: stopped: block request %s ",
			 what);
	host_block_describe(msg + n, sizeof msg - (size_t)n - 1, b->info->name,
			    r, &b->geometry);
	serial_puts(msg);
	serial_puts("\n");
	virtio_exit_raw(INGOT_EXIT_STOPPED);
}

/* A little-endian field of the device's configuration, read until two
 * reads agree (the device may change it meanwhile). */
static uint64_t config(struct vdev *d, unsigned off, unsigned bytes)
{
	uint64_t v, again = 0;
	do {
		v = again;
		again = 0;
		for (unsigned i = 0; i < bytes; i++)
			again |= (uint64_t)d->ops->config8(d, off + i)
				 << (8 * i);
	} while (v != again);
	return v;
}

/* Reads the device's geometry into info: why it cannot be used, or NULL. */
static const char *geometry(struct vblk *b, struct ingot_device *info)
{
	struct vdev *d = b->dev;
	uint32_t bs = VIRTIO_SECTOR;
	if (b->offered & BLK_F_BLK_SIZE) {
		bs = (uint32_t)config(d, CFG_BLK_SIZE, 4);
		if (bs < VIRTIO_SECTOR || bs > 4096 || (bs & (bs - 1)))
			return "a block size other than 512, 1024, 2048 or "
			       "4096 bytes";
	}
	for (b->shift = 0; (uint32_t)VIRTIO_SECTOR << b->shift < bs; b->shift++)
		;
	b->seg_bytes = INGOT_BLOCK_REQ_BYTES_MAX;
	if (b->offered & BLK_F_SIZE_MAX) {
		uint32_t max = (uint32_t)config(d, CFG_SIZE_MAX, 4) & ~(bs - 1);
		if (max < bs)
			return "a segment size below one block";
		if (max < b->seg_bytes)
			b->seg_bytes = max;
	}
	b->segs_max =
	    (INGOT_BLOCK_REQ_BYTES_MAX + b->seg_bytes - 1) / b->seg_bytes;
	if (b->segs_max > SEGS_MAX)
		return "a segment size below 64 KiB";
	if ((b->offered & BLK_F_SEG_MAX) &&
	    config(d, CFG_SEG_MAX, 4) < b->segs_max)
		return "room for less than 1 MiB in one request";
	uint64_t sectors = config(d, CFG_CAPACITY, 8) >> b->shift;
	if (!sectors)
		return "no capacity";
	b->geometry = (struct host_block_geometry){
	    .sectors = sectors,
	    .sector_size = bs,
	    .ro = (b->offered & BLK_F_RO) != 0,
	};
	info->u.block = (struct ingot_block_info){
	    .sector_size = bs,
	    .read_only = b->geometry.ro,
	    .sectors = sectors,
	};
	return NULL;
}

static void found(struct vblk *b, struct vdev *d, struct ingot_device *info)
{
	char msg[200];
	b->dev = d;
	b->info = info;
	d->ops->set_status(d, 0);
	d->ops->set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	b->offered = d->ops->features(d);
	const char *why = b->offered & VIRTIO_F_VERSION_1
			      ? geometry(b, info)
			      : "no VIRTIO_F_VERSION_1";
	if (why) {
		snprintf(msg, sizeof msg,
			 "virtio-blk: %s has %s: block device %s not "
			 "attached\n",
			 d->where, why, info->name);
		serial_puts(msg);
		d->ops->set_status(d, VIRTIO_STATUS_FAILED);
		return;
	}
	info->attached = true;
}

static void vblk_found(uint32_t h, struct vdev *d)
{
	found(&blks[h], d, &virtio.info.devices[h]);
}

void vblk_setup(void)
{
	vdev_match(VIRTIO_ID_BLOCK, vblk_found);
}

static int queue(struct vblk *b)
{
	struct vdev *d = b->dev;
	uint16_t qs = vdev_queue_size(d, 0);
	/* The largest request: its header, data and status. */
	if (qs < b->segs_max + 2)
		return -EIO;
	int rc = vq_init(&b->q, 0, qs, b->taken & VIRTIO_F_EVENT_IDX);
	if (rc < 0)
		return rc;
	uint32_t rs = b->mask + 1;
	b->req = calloc(rs, sizeof *b->req);
	b->status = calloc(rs, sizeof *b->status);
	b->done = calloc(rs, 1);
	b->hdr = calloc(qs, sizeof *b->hdr);
	b->st = calloc(qs, 1);
	b->slot_of = calloc(qs, sizeof *b->slot_of);
	b->writable = calloc(qs, sizeof *b->writable);
	if (!b->req || !b->status || !b->done || !b->hdr || !b->st ||
	    !b->slot_of || !b->writable)
		return -ENOMEM;
	d->ops->queue_enable(d, &b->q);
	return 0;
}

int vblk_attach(uint32_t handle, struct ingot_block_ring *ring)
{
	if (handle >= virtio.info.ndevices)
		return -ENODEV;
	struct vblk *b = &blks[handle];
	if (!b->info || !b->info->attached ||
	    b->info->type != INGOT_DEVICE_BLOCK)
		return -ENODEV;
	if (b->attached)
		return -EBUSY;
	if (!vdev_ring_ok(ring, sizeof *ring, sizeof ring->req[0],
			  INGOT_BLOCK_RING_MAX))
		return -EINVAL;
	struct vdev *d = b->dev;
	uint64_t want = VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX |
			BLK_F_SIZE_MAX | BLK_F_SEG_MAX | BLK_F_RO |
			BLK_F_BLK_SIZE | BLK_F_FLUSH;
	b->taken = vdev_negotiate(d, want & b->offered);
	if (!b->taken)
		return -EIO;
	b->ring = ring;
	b->mask = ring->size - 1;
	b->used = b->posted = ring->used;
	int rc = queue(b);
	if (rc < 0) {
		d->ops->set_status(d, VIRTIO_STATUS_FAILED);
		return rc;
	}
	b->attached = true;
	d->ops->set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_FEATURES_OK |
				  VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

/* Stops the guest unless r keeps the ring's rules. */
static void check(const struct vblk *b, const struct ingot_block_req *r)
{
	const char *broken = host_block_rule_broken(r, &b->geometry);
	if (broken)
		violation(b, broken, r);
	bool write = r->op == INGOT_BLOCK_WRITE;
	if (r->op != INGOT_BLOCK_FLUSH &&
	    !vdev_dma_ok(r->addr, (uint64_t)r->count * b->geometry.sector_size,
			 !write))
		violation(b,
			  write ? "with a buffer outside guest memory"
				: "with a buffer outside guest-writable memory",
			  r);
}

/* Whether r must wait for a request on the queue: they overlap and one
 * of them writes. */
static bool conflicts(const struct vblk *b, const struct ingot_block_req *r)
{
	for (uint32_t j = b->used; j != b->posted; j++) {
		const struct ingot_block_req *o = &b->req[j & b->mask];
		if (b->done[j & b->mask] ||
		    (r->op != INGOT_BLOCK_WRITE && o->op != INGOT_BLOCK_WRITE))
			continue;
		if (r->sector < o->sector + o->count &&
		    o->sector < r->sector + r->count)
			return true;
	}
	return false;
}

static void complete(struct vblk *b, uint32_t slot, int32_t status)
{
	b->status[slot] = status;
	b->done[slot] = 1;
}

/* The chain of ring slot i's request r onto the queue: false if the
 * queue has too few descriptors left. */
static bool enqueue(struct vblk *b, uint32_t i, const struct ingot_block_req *r)
{
	struct vq_buf bufs[2 + SEGS_MAX];
	uint64_t len = (uint64_t)r->count << (9 + b->shift);
	unsigned n = 1;
	uint16_t head = b->q.free_head;
	bool read = r->op == INGOT_BLOCK_READ;
	for (uint64_t off = 0; off < len; off += b->seg_bytes) {
		uint64_t piece =
		    len - off < b->seg_bytes ? len - off : b->seg_bytes;
		bufs[n++] =
		    (struct vq_buf){(const void *)(uintptr_t)(r->addr + off),
				    (uint32_t)piece, read};
	}
	if (b->q.nfree < n + 1)
		return false;
	b->hdr[head] = (struct blk_hdr){
	    .type = read                         ? T_IN
		    : r->op == INGOT_BLOCK_WRITE ? T_OUT
						 : T_FLUSH,
	    .sector = r->sector << b->shift,
	};
	b->st[head] = S_UNSET;
	bufs[0] = (struct vq_buf){&b->hdr[head], sizeof b->hdr[head], false};
	bufs[n++] = (struct vq_buf){&b->st[head], 1, true};
	vq_add(&b->q, bufs, n);
	b->slot_of[head] = i;
	b->writable[head] = 1 + (read ? (uint32_t)len : 0);
	return true;
}

/* New requests onto the queue, in ring order, while the order rules and
 * the queue's descriptors allow. */
static void post(struct vblk *b)
{
	uint32_t avail = __atomic_load_n(&b->ring->avail, __ATOMIC_ACQUIRE);
	if (avail - b->used > b->mask + 1) {
		char msg[120];
		snprintf(msg, sizeof msg,
			 "ingot: stopped: block ring index out of range "
			 "(device %s)\n",
			 b->info->name);
		serial_puts(msg);
		virtio_exit_raw(INGOT_EXIT_STOPPED);
	}
	bool added = false;
	while (b->posted != avail && !b->flushing) {
		uint32_t i = b->posted & b->mask;
		struct ingot_block_req r = b->ring->req[i];
		check(b, &r);
		if (r.op == INGOT_BLOCK_FLUSH) {
			if (b->inflight)
				break; /* what is before it completes first */
			if (!(b->taken & BLK_F_FLUSH)) {
				b->req[i] = r;
				complete(b, i, 0); /* no cache to flush */
				b->posted++;
				continue;
			}
		} else if (conflicts(b, &r)) {
			break;
		}
		if (!enqueue(b, i, &r))
			break; /* the rest once the device finished some */
		b->req[i] = r;
		b->posted++;
		b->inflight++;
		b->flushing = r.op == INGOT_BLOCK_FLUSH;
		added = true;
	}
	if (added) {
		vq_publish(&b->q);
		if (vq_kick_needed(&b->q))
			b->dev->ops->notify(b->dev, &b->q);
	}
}

/* What the device has completed, checked, into the slots' statuses. */
static void reap(struct vblk *b)
{
	struct vq *q = &b->q;
	uint16_t k = vq_used_pending(q);
	if (k > q->size)
		stop(b, "virtio-blk: used index out of range");
	for (; k; k--) {
		struct vq_used_elem e = vq_used_peek(q, 0);
		if (!vq_head_in_flight(q, e.id))
			stop(b, "virtio-blk: completion of a request never "
				"given");
		uint16_t h = (uint16_t)e.id;
		if (e.len > b->writable[h])
			stop(b, "virtio-blk: used length past the request's "
				"buffers");
		uint32_t slot = b->slot_of[h];
		int32_t rc;
		switch (b->st[h]) {
		case S_OK:
			rc = 0;
			break;
		case S_IOERR:
			rc = -EIO;
			break;
		case S_UNSUPP:
			rc = -EOPNOTSUPP;
			break;
		default:
			stop(b, "virtio-blk: request status out of range");
		}
		if (rc == 0 && b->req[slot].op == INGOT_BLOCK_READ &&
		    e.len < b->writable[h])
			rc = -EIO; /* success claimed for a short read */
		if (b->req[slot].op == INGOT_BLOCK_FLUSH)
			b->flushing = false;
		complete(b, slot, rc);
		b->inflight--;
		vq_used_take(q, h);
	}
}

/* Done requests back to the guest, in ring order: whether any. */
static bool hand_back(struct vblk *b)
{
	uint32_t was = b->used;
	while (b->used != b->posted && b->done[b->used & b->mask]) {
		uint32_t i = b->used & b->mask;
		b->ring->req[i].status = b->status[i];
		b->done[i] = 0;
		b->used++;
	}
	if (b->used == was)
		return false;
	__atomic_store_n(&b->ring->used, b->used, __ATOMIC_RELEASE);
	return true;
}

uint64_t vblk_service(void)
{
	uint64_t ready = 0;
	for (uint32_t h = 0; h < virtio.info.ndevices; h++) {
		struct vblk *b = &blks[h];
		if (!b->attached)
			continue;
		reap(b);
		post(b);
		if (hand_back(b))
			ready |= 1ULL << h;
	}
	return ready;
}

bool vblk_arm(void)
{
	for (uint32_t h = 0; h < virtio.info.ndevices; h++) {
		struct vblk *b = &blks[h];
		if (b->attached && b->inflight && vq_arm(&b->q))
			return false;
	}
	return true;
}

void vblk_woken(uint32_t pending)
{
	for (uint32_t h = 0; h < virtio.info.ndevices; h++) {
		struct vblk *b = &blks[h];
		if (!b->attached)
			continue;
		if (pending & (1u << b->dev->irq))
			b->dev->ops->irq_ack(b->dev);
		vq_disarm(&b->q);
	}
}
