/*
 * Block devices for fibers (include/ingot/blk.h): one ring per device,
 * filled by the fibers, served by the host in every ingot_poll(), and
 * drained by a poller that hands each completion to its waiting batch as
 * soon as its status is there, ahead of earlier requests still in flight.
 */
#include <errno.h>
#include <ingot/blk.h>
#include <ingot/sched.h>
#include <stdlib.h>
#include <string.h>

/* One blk_batch() call: its fiber sleeps until pending reaches 0. */
struct waiter {
	unsigned pending;
	struct sched_waitq q;
};

/* A slot's request in flight, for a blk_batch() (w) or a blk_start() (a);
 * both are NULL once its completion went out. */
struct owner {
	struct blk_io *io;
	struct waiter *w;
	struct blk_async *a;
};

struct blk_dev {
	const struct ingot_device *dev;
	struct ingot_block_ring *ring;
	uint32_t avail; /* the guest's copy of ring->avail */
	uint32_t seen;  /* slots before it are free: used and handed out */
	struct owner owner[CONFIG_BLK_RING_SLOTS];
	struct sched_waitq room; /* fibers waiting for a free slot */
	struct blk_stats stats;
};

static struct blk_dev *devs[INGOT_DEVICES_MAX];
static unsigned ndevs;

struct blk_dev *blk_open(const char *name)
{
	for (unsigned i = 0; i < ndevs; i++)
		if (strncmp(devs[i]->dev->name, name,
			    sizeof devs[i]->dev->name) == 0)
			return devs[i];
	return NULL;
}

uint32_t blk_sector_size(const struct blk_dev *d)
{
	return d->dev->u.block.sector_size;
}

uint32_t blk_handle(const struct blk_dev *d)
{
	return d->dev->handle;
}

uint64_t blk_sectors(const struct blk_dev *d)
{
	return d->dev->u.block.sectors;
}

bool blk_read_only(const struct blk_dev *d)
{
	return d->dev->u.block.read_only;
}

void blk_stats(const struct blk_dev *d, struct blk_stats *s)
{
	*s = d->stats;
}

static void complete(struct blk_dev *d, const struct ingot_block_req *r,
		     struct owner *o)
{
	uint64_t bytes = (uint64_t)r->count * blk_sector_size(d);
	if (r->status < 0) {
		d->stats.errors++;
		if (!o->io->status)
			o->io->status = r->status;
	} else if (r->op == INGOT_BLOCK_READ) {
		d->stats.reads++;
		d->stats.bytes_read += bytes;
	} else if (r->op == INGOT_BLOCK_WRITE) {
		d->stats.writes++;
		d->stats.bytes_written += bytes;
	} else {
		d->stats.flushes++;
	}
	if (o->a) {
		if (--o->a->pending == 0)
			o->a->done(o->a);
	} else if (--o->w->pending == 0) {
		sched_wake_one(&o->w->q);
	}
}

/* Hands out d's completions: whatever has its status, in any order. */
static int drain(struct blk_dev *d)
{
	int done = 0;
	for (uint32_t i = d->seen; i != d->avail; i++) {
		uint32_t k = i & (CONFIG_BLK_RING_SLOTS - 1);
		struct ingot_block_req *r = &d->ring->req[k];
		struct owner *o = &d->owner[k];
		if ((!o->w && !o->a) ||
		    __atomic_load_n(&r->status, __ATOMIC_ACQUIRE) ==
			INGOT_BLOCK_PENDING)
			continue;
		struct owner was_o = *o;
		o->w = NULL;
		o->a = NULL;
		complete(d, r, &was_o);
		done++;
	}
	uint32_t used = __atomic_load_n(&d->ring->used, __ATOMIC_ACQUIRE);
	uint32_t was = d->seen;
	while (d->seen != used) {
		const struct owner *o =
		    &d->owner[d->seen & (CONFIG_BLK_RING_SLOTS - 1)];
		if (o->w || o->a)
			break;
		d->seen++;
	}
	if (done)
		d->stats.batches++;
	if (d->seen != was)
		sched_wake_all(&d->room);
	return done;
}

static int blk_poll(void *arg, uint64_t now)
{
	(void)arg, (void)now;
	int done = 0;
	for (unsigned i = 0; i < ndevs; i++)
		if (devs[i]->seen != devs[i]->avail)
			done += drain(devs[i]);
	return done;
}

static struct sched_poller poller = {.poll = blk_poll};

/* Posts one request for w or a: the caller made sure of a free slot. */
static void post(struct blk_dev *d, struct blk_io *io, struct owner o,
		 uint64_t sector, void *buf, uint32_t count)
{
	uint32_t k = d->avail & (CONFIG_BLK_RING_SLOTS - 1);
	d->ring->req[k] = (struct ingot_block_req){
	    .addr = (uintptr_t)buf,
	    .sector = sector,
	    .count = count,
	    .op = io->op,
	    .status = INGOT_BLOCK_PENDING,
	};
	d->owner[k] = o;
	if (o.a)
		o.a->pending++;
	else
		o.w->pending++;
	d->avail++;
	__atomic_store_n(&d->ring->avail, d->avail, __ATOMIC_RELEASE);
}

static int check(const struct blk_dev *d, const struct blk_io *io)
{
	if (io->op == INGOT_BLOCK_FLUSH)
		return 0;
	if (io->op != INGOT_BLOCK_READ && io->op != INGOT_BLOCK_WRITE)
		return -EINVAL;
	if (io->op == INGOT_BLOCK_WRITE && blk_read_only(d))
		return -EROFS;
	if (io->sector > blk_sectors(d) ||
	    io->count > blk_sectors(d) - io->sector ||
	    (uintptr_t)io->buf % blk_sector_size(d))
		return -EINVAL;
	return 0;
}

static int check_all(const struct blk_dev *d, struct blk_io *io, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		io[i].status = check(d, &io[i]);
		if (io[i].status)
			return io[i].status;
	}
	return 0;
}

/* The ring slots io takes: requests carry at most max sectors each. */
static uint32_t slots(const struct blk_dev *d, const struct blk_io *io)
{
	uint32_t max = INGOT_BLOCK_REQ_SECTORS_MAX(blk_sector_size(d));
	return io->op == INGOT_BLOCK_FLUSH ? 1 : (io->count + max - 1) / max;
}

/* Posts io's requests for o, waiting for free slots (in a fiber) if
 * may_wait, else the caller made sure of them. */
static void submit(struct blk_dev *d, struct blk_io *io, struct owner o,
		   bool may_wait)
{
	uint32_t ss = blk_sector_size(d);
	uint32_t max = INGOT_BLOCK_REQ_SECTORS_MAX(ss);
	bool flush = io->op == INGOT_BLOCK_FLUSH;
	for (uint32_t done = 0; flush || done < io->count; flush = false) {
		while (may_wait && d->avail - d->seen == CONFIG_BLK_RING_SLOTS)
			sched_wait(&d->room, UINT64_MAX);
		uint32_t c = io->count - done < max ? io->count - done : max;
		if (io->op == INGOT_BLOCK_FLUSH)
			post(d, io, o, 0, NULL, 0);
		else
			post(d, io, o, io->sector + done,
			     (char *)io->buf + (uint64_t)done * ss, c);
		done += c;
	}
}

int blk_batch(struct blk_dev *d, struct blk_io *io, unsigned n)
{
	struct waiter w = {0};
	int rc = check_all(d, io, n);
	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++)
		submit(d, &io[i], (struct owner){&io[i], &w, NULL}, true);
	while (w.pending)
		sched_wait(&w.q, UINT64_MAX);
	for (unsigned i = 0; i < n; i++)
		if (io[i].status)
			return io[i].status;
	return 0;
}

int blk_start(struct blk_dev *d, struct blk_io *io, unsigned n,
	      struct blk_async *a)
{
	int rc = check_all(d, io, n);
	if (rc)
		return rc;
	uint64_t need = 0;
	for (unsigned i = 0; i < n; i++)
		need += slots(d, &io[i]);
	if (!need || need > CONFIG_BLK_RING_SLOTS)
		return -EINVAL;
	if (need > CONFIG_BLK_RING_SLOTS - (d->avail - d->seen))
		return -EAGAIN;
	a->pending = 0;
	for (unsigned i = 0; i < n; i++)
		submit(d, &io[i], (struct owner){&io[i], NULL, a}, false);
	return 0;
}

int blk_read(struct blk_dev *d, uint64_t sector, void *buf, uint32_t count)
{
	struct blk_io io = {INGOT_BLOCK_READ, count, sector, buf, 0};
	return blk_batch(d, &io, 1);
}

int blk_write(struct blk_dev *d, uint64_t sector, const void *buf,
	      uint32_t count)
{
	struct blk_io io = {INGOT_BLOCK_WRITE, count, sector, (void *)buf, 0};
	return blk_batch(d, &io, 1);
}

int blk_flush(struct blk_dev *d)
{
	struct blk_io io = {.op = INGOT_BLOCK_FLUSH};
	return blk_batch(d, &io, 1);
}

/* Before the seal: a ring for every attached block device. */
static int blk_init(void)
{
	const struct ingot_boot_info *bi = ingot_boot_info();
	size_t ring_size =
	    sizeof(struct ingot_block_ring) +
	    CONFIG_BLK_RING_SLOTS * sizeof(struct ingot_block_req);

	for (uint32_t i = 0; i < bi->ndevices; i++) {
		const struct ingot_device *dev = &bi->devices[i];
		if (dev->type != INGOT_DEVICE_BLOCK || !dev->attached)
			continue;
		struct blk_dev *d = calloc(1, sizeof *d);
		struct ingot_block_ring *r = aligned_alloc(64, ring_size);
		if (!d || !r)
			return -ENOMEM;
		memset(r, 0, ring_size);
		r->size = CONFIG_BLK_RING_SLOTS;
		d->dev = dev;
		d->ring = r;
		int rc = ingot_block_attach(dev->handle, r);
		if (rc < 0)
			return rc;
		devs[ndevs++] = d;
	}
	return ndevs ? sched_poller_add(&poller) : 0;
}
INGOT_INIT(blk_init);
