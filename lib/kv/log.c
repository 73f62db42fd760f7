/*
 * The log store (kv.h, "kv_log"): appends, group commit, reads.  Records
 * are appended to the batch being filled and the index points at them
 * there (pending); as each turn of the loop ends, the store's poller
 * posts a whole batch's write and the flush behind it together, and once
 * both completed points the index at the device and wakes the batch's
 * writers, in the turn that found them complete.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_internal.h"

/* Changes from clients stop while this few segments are free, until the
 * compactor frees more (it starts at KV_COMPACT_AT); what it copies always
 * finds room. */
#define KV_USER_FLOOR 3

/* Wall-clock time is boot time plus monotonic time (abi.h), and the
 * scheduler's monotonic time costs nothing, where a clock read is an exit
 * on nested KVM: every lookup checks an expiry. */
int64_t kv_log_now_ms(void)
{
	static uint64_t boot_wall;
	if (!boot_wall)
		boot_wall = ingot_clock_wall() - ingot_clock_monotonic();
	return (int64_t)((boot_wall + sched_now()) / 1000000);
}

static bool expired(const struct kv_entry *e, int64_t now)
{
	return e->expire_ms && e->expire_ms <= now;
}

/* The entry for key, forgetting it if it expired. */
static struct kv_entry *lookup(struct kv_log *s, const void *key, size_t klen,
			       uint32_t hash)
{
	struct kv_entry *e = kv_index_find(&s->index, key, klen, hash);
	if (e && expired(e, kv_log_now_ms())) {
		s->live_bytes -= e->size;
		s->st.expired++;
		kv_index_remove(&s->index, e);
		return NULL;
	}
	return e;
}

/* Whether the conditions of a put or delete hold; 0 or why not. */
static int conditions(const struct kv_entry *e, uint8_t type, unsigned flags,
		      uint64_t version)
{
	if ((flags & KV_PUT_NX) && e)
		return -EEXIST;
	if ((flags & KV_PUT_XX) && !e)
		return -ENOENT;
	if ((flags & KV_PUT_IF_VERSION) && (e ? e->version : 0) != version)
		return -EAGAIN;
	if (type == KV_REC_DEL && !e)
		return -ENOENT;
	return 0;
}

int kv_log_append(struct kv_log *s, uint8_t type, const void *key, size_t klen,
		  const void *val, size_t vlen, int64_t expire_ms,
		  unsigned flags, uint64_t version, bool internal,
		  uint32_t *gen)
{
	if (klen > KV_LOG_KEY_MAX || vlen > KV_LOG_VALUE_MAX)
		return -EINVAL;
	uint32_t size = kv_rec_size((uint32_t)klen, (uint32_t)vlen);
	uint32_t hash = kv_index_hash(&s->index, key, klen);
	struct kv_entry *e;
	struct kv_batch *b;

	for (;;) {
		if (s->failed)
			return s->failed;
		e = lookup(s, key, klen, hash);
		int rc = conditions(e, type, flags, version);
		if (rc)
			return rc;
		if (!internal && type == KV_REC_PUT &&
		    s->live_bytes - (e ? e->size : 0) + size > s->capacity)
			return -ENOSPC;
		b = &s->batch[s->fill];
		/* At the floor with nothing to reclaim (the free space is in
		 * the tails of segments that a batch did not fit) the wait
		 * would never end: a put is refused, a delete goes through
		 * (a few bytes of the head's, and garbage to reclaim). */
		bool stuck = !kv_log_reclaimable(s);
		if (!internal && s->nfree <= KV_USER_FLOOR &&
		    type == KV_REC_PUT && stuck)
			return -ENOSPC;
		if (!internal && s->nfree <= KV_USER_FLOOR && !stuck) {
			sched_wake_one(&s->compact);
			sched_wait(&s->freed, UINT64_MAX);
			continue;
		}
		if (b->len + size > KV_BATCH_BYTES) {
			sched_wait(&s->room, UINT64_MAX);
			continue;
		}
		break;
	}
	if (type == KV_REC_PUT) {
		bool added;
		e = kv_index_add(&s->index, key, klen, hash, &added);
		if (!e)
			return -ENOSPC;
		bool keep = vlen <= s->opts.inline_max;
		if (!kv_index_keep_value(e, keep ? (val ? val : "") : NULL,
					 vlen)) {
			if (added)
				kv_index_remove(&s->index, e);
			return -ENOSPC;
		}
		s->live_bytes = s->live_bytes - (added ? 0 : e->size) + size;
		e->version = ++s->version;
		e->expire_ms = expire_ms;
		e->flags |= KV_PENDING;
		e->vlen = (uint32_t)vlen;
		e->where = b->gen;
		e->off = b->len;
		e->size = size;
	} else {
		s->live_bytes -= e->size;
		kv_index_remove(&s->index, e);
	}
	unsigned char *p = b->buf + b->len;
	struct kv_rec r = {.magic = KV_REC_MAGIC,
			   .type = type,
			   .klen = (uint16_t)klen,
			   .vlen = (uint32_t)vlen,
			   .expire_ms = expire_ms};
	memcpy(p, &r, sizeof r);
	memcpy(p + sizeof r, key, klen);
	memcpy(p + sizeof r + klen, val, vlen);
	memset(p + sizeof r + klen + vlen, 0, size - sizeof r - klen - vlen);
	b->len += size;
	*gen = b->gen;
	return 0;
}

int kv_log_wait(struct kv_log *s, uint32_t gen)
{
	while ((int32_t)(s->committed_gen - gen) < 0 && !s->failed)
		sched_wait(&s->committed, UINT64_MAX);
	return s->failed;
}

int kv_log_put_async(struct kv_log *s, const void *key, size_t klen,
		     const void *val, size_t vlen, int64_t expire_ms,
		     unsigned flags, uint64_t version, uint32_t *ticket)
{
	return kv_log_append(s, KV_REC_PUT, key, klen, val, vlen, expire_ms,
			     flags, version, false, ticket);
}

int kv_log_del_async(struct kv_log *s, const void *key, size_t klen,
		     uint32_t *ticket)
{
	return kv_log_append(s, KV_REC_DEL, key, klen, NULL, 0, 0, 0, 0, false,
			     ticket);
}

int kv_log_sync(struct kv_log *s, uint32_t ticket)
{
	return kv_log_wait(s, ticket);
}

int kv_log_put(struct kv_log *s, const void *key, size_t klen, const void *val,
	       size_t vlen, int64_t expire_ms, unsigned flags, uint64_t version)
{
	uint32_t t;
	int rc = kv_log_put_async(s, key, klen, val, vlen, expire_ms, flags,
				  version, &t);
	return rc ? rc : kv_log_sync(s, t);
}

int kv_log_del(struct kv_log *s, const void *key, size_t klen)
{
	uint32_t t;
	int rc = kv_log_del_async(s, key, klen, &t);
	return rc ? rc : kv_log_sync(s, t);
}

/* Where a batch of bytes goes: the head if it has room, else a free
 * segment (*fresh), to be given a header with a new epoch.  -ENOSPC if
 * there is none. */
static int place(const struct kv_log *s, uint32_t bytes, uint32_t *seg,
		 bool *fresh)
{
	*seg = s->head;
	*fresh = !(s->head < s->nsegs && s->head_off + bytes <= KV_LOG_SEGMENT);
	if (!*fresh)
		return 0;
	for (*seg = 0; *seg < s->nsegs; ++*seg)
		if (!s->seg[*seg].epoch)
			return 0;
	return -ENOSPC;
}

/* Makes segment i, just given its header, the head. */
static void open_head(struct kv_log *s, uint32_t i)
{
	s->seg[i].epoch = ++s->max_epoch;
	s->seg[i].used = 0;
	s->nfree--;
	s->head = i;
	s->head_off = KV_SECTOR;
	sched_wake_one(&s->compact);
}

/* Submits batch b: stamps its records with their segment's epoch and
 * checksums, and posts their write, behind a new head's header if it
 * needs one, and the flush, in one go.  0, -EAGAIN (no room in the ring
 * now: nothing changed), or an error. */
static int commit_start(struct kv_log *s, struct kv_batch *b)
{
	uint32_t bytes = (b->len + KV_SECTOR - 1) & ~(uint32_t)(KV_SECTOR - 1);
	uint32_t seg;
	bool fresh;
	int rc = place(s, bytes, &seg, &fresh);
	if (rc < 0)
		return rc;
	memset(b->buf + b->len, 0, bytes - b->len);
	uint64_t epoch = fresh ? s->max_epoch + 1 : s->seg[seg].epoch;
	for (uint32_t p = 0; p < b->len;) {
		struct kv_rec *r = (struct kv_rec *)(b->buf + p);
		uint32_t size = kv_rec_size(r->klen, r->vlen);
		r->epoch = epoch;
		r->crc = kv_crc32c(0, b->buf + p + 8, size - 8);
		p += size;
	}
	/* The header and the records may land in either order: neither is
	 * acknowledged before the flush behind both. */
	uint64_t at = kv_seg_base(seg) + (fresh ? KV_SECTOR : s->head_off);
	unsigned n = 0;
	if (fresh) {
		kv_seg_header_fill(s->sector, seg, epoch);
		s->io[n++] =
		    (struct blk_io){.op = INGOT_BLOCK_WRITE,
				    .count = 1,
				    .sector = kv_seg_base(seg) / KV_SECTOR,
				    .buf = s->sector};
	}
	s->io[n++] = (struct blk_io){.op = INGOT_BLOCK_WRITE,
				     .count = bytes / KV_SECTOR,
				     .sector = at / KV_SECTOR,
				     .buf = b->buf};
	if (s->opts.flush)
		s->io[n++] = (struct blk_io){.op = INGOT_BLOCK_FLUSH};
	rc = blk_start(s->dev, s->io, n, &s->async);
	if (rc < 0)
		return rc;
	s->nio = n;
	if (fresh)
		open_head(s, seg);
	return 0;
}

/* Once batch b is written (and flushed): points the index at it. */
static void commit_end(struct kv_log *s, struct kv_batch *b)
{
	uint32_t bytes = (b->len + KV_SECTOR - 1) & ~(uint32_t)(KV_SECTOR - 1);
	for (uint32_t p = 0; p < b->len;) {
		const struct kv_rec *r = (const struct kv_rec *)(b->buf + p);
		const unsigned char *key = b->buf + p + sizeof *r;
		struct kv_entry *e =
		    kv_index_find(&s->index, key, r->klen,
				  kv_index_hash(&s->index, key, r->klen));
		if (e && (e->flags & KV_PENDING) && e->where == b->gen &&
		    e->off == p) {
			e->flags &= (uint16_t)~KV_PENDING;
			e->where = s->head;
			e->off = s->head_off + p;
		}
		s->st.records_written++;
		p += kv_rec_size(r->klen, r->vlen);
	}
	s->head_off += bytes;
	s->seg[s->head].used += bytes;
	s->used_bytes += bytes;
	s->st.commits++;
	s->st.bytes_written += bytes;
}

/* A batch's end, written or failed: its waiters go. */
static void committed(struct kv_log *s, struct kv_batch *b, int rc)
{
	if (rc < 0 && !s->failed)
		s->failed = rc;
	s->committed_gen = b->gen;
	sched_wake_all(&s->committed);
}

/* The poller's completion of the commit in flight: in the turn that found
 * it, so its waiters reply in that turn too. */
static void commit_done(struct blk_async *a)
{
	struct kv_log *s =
	    (struct kv_log *)((char *)a - offsetof(struct kv_log, async));
	struct kv_batch *b = s->committing;
	int rc = 0;
	for (unsigned i = 0; i < s->nio && !rc; i++)
		rc = s->io[i].status;
	s->committing = NULL;
	if (rc == 0)
		commit_end(s, b);
	committed(s, b, rc);
}

/* Group commit, at the end of every turn (the poller's flush hook): the
 * records of every fiber that ran go to the device in the exit that ends
 * the turn, one commit in flight at a time. */
static void commit_turn(void *arg)
{
	struct kv_log *s = arg;
	struct kv_batch *b = &s->batch[s->fill];
	if (s->committing || !b->len)
		return;
	int rc = s->failed ? s->failed : commit_start(s, b);
	if (rc == -EAGAIN)
		return;
	s->fill ^= 1;
	s->batch[s->fill].len = 0;
	s->batch[s->fill].gen = s->next_gen++;
	sched_wake_all(&s->room);
	if (rc < 0)
		committed(s, b, rc);
	else
		s->committing = b;
}

static int commit_poll(void *arg, uint64_t now)
{
	(void)arg, (void)now;
	return 0;
}

static uint64_t commit_wake_for(void *arg)
{
	const struct kv_log *s = arg;
	return s->committing && s->opts.hold_for_commit
		   ? 1ULL << blk_handle(s->dev)
		   : 0;
}

/* A pending value, from the batch that holds it. */
static const unsigned char *pending_value(struct kv_log *s,
					  const struct kv_entry *e)
{
	for (int i = 0; i < 2; i++)
		if (s->batch[i].gen == e->where)
			return s->batch[i].buf + e->off +
			       sizeof(struct kv_rec) + e->klen;
	return NULL;
}

/* Copies n bytes of e's value to buf: 0, -EAGAIN if the record read
 * from the device is no longer key's (the compactor moved it and reused
 * its segment while this fiber waited), or an error. */
static int read_value(struct kv_log *s, const struct kv_entry *e,
		      const void *key, size_t klen, void *buf, size_t n)
{
	if (e->flags & KV_INLINE) {
		memcpy(buf, e->key + e->klen, n);
		s->st.reads_memory++;
		return 0;
	}
	if (e->flags & KV_PENDING) {
		const unsigned char *v = pending_value(s, e);
		if (!v)
			return -EIO;
		memcpy(buf, v, n);
		s->st.reads_memory++;
		return 0;
	}
	s->st.reads_device++;
	uint32_t seg = e->where, vlen = e->vlen, size = e->size;
	uint64_t at = kv_seg_base(seg) + e->off;
	uint64_t first = at / KV_SECTOR;
	uint64_t end = (at + size + KV_SECTOR - 1) / KV_SECTOR;
	unsigned char *io = aligned_alloc(KV_SECTOR, (end - first) * KV_SECTOR);
	if (!io)
		return -ENOMEM;
	int rc = blk_read(s->dev, first, io, (uint32_t)(end - first));
	const unsigned char *p = io + (at - first * KV_SECTOR);
	const struct kv_rec *r =
	    rc ? NULL : kv_rec_check(p, size, s->seg[seg].epoch);
	bool same = r && r->klen == klen && r->vlen == vlen &&
		    memcmp(p + sizeof *r, key, klen) == 0;
	if (same)
		memcpy(buf, p + sizeof *r + klen, n);
	free(io);
	return rc < 0 ? rc : same ? 0 : -EAGAIN;
}

long kv_log_get(struct kv_log *s, const void *key, size_t klen, void *buf,
		size_t cap, int64_t *expire_ms, uint64_t *version)
{
	if (klen > KV_LOG_KEY_MAX)
		return -ENOENT;
	uint32_t hash = kv_index_hash(&s->index, key, klen);
	/* A few retries always see a moved record settled. */
	for (int attempt = 0; attempt < 4; attempt++) {
		struct kv_entry *e = lookup(s, key, klen, hash);
		if (!e)
			return -ENOENT;
		uint64_t ver = e->version;
		int64_t exp = e->expire_ms;
		uint32_t vlen = e->vlen;
		size_t n = vlen < cap ? vlen : cap;
		if (buf && n) {
			int rc = read_value(s, e, key, klen, buf, n);
			if (rc == -EAGAIN)
				continue;
			if (rc < 0)
				return rc;
		}
		if (expire_ms)
			*expire_ms = exp;
		if (version)
			*version = ver;
		return (long)vlen;
	}
	return -EIO;
}

uint64_t kv_log_count(const struct kv_log *s)
{
	return s->index.count;
}

void kv_log_stats(const struct kv_log *s, struct kv_log_stats *st)
{
	*st = s->st;
	st->keys = s->index.count;
	st->live_bytes = s->live_bytes;
	st->capacity_bytes = s->capacity;
	st->segments = s->nsegs;
	st->free_segments = s->nfree;
}

int kv_log_mount(struct blk_dev *d, const struct kv_log_options *opts,
		 struct kv_log **out, char *err, size_t errlen)
{
	uint64_t bytes = blk_sectors(d) * blk_sector_size(d);
	if (blk_sector_size(d) != KV_SECTOR || bytes < KV_LOG_DEVICE_MIN ||
	    blk_read_only(d)) {
		snprintf(err, errlen,
			 "the device must be writable, of 512-byte sectors and "
			 "at least %llu MiB",
			 (unsigned long long)(KV_LOG_DEVICE_MIN >> 20));
		return -EINVAL;
	}
	struct kv_log *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->dev = d;
	s->opts = *opts;
	s->nsegs = (uint32_t)((bytes - KV_BASE) / KV_LOG_SEGMENT);
	s->seg = calloc(s->nsegs, sizeof s->seg[0]);
	s->scratch = aligned_alloc(4096, KV_LOG_SEGMENT);
	s->sector = aligned_alloc(KV_SECTOR, KV_SECTOR);
	for (int i = 0; i < 2; i++)
		s->batch[i].buf = aligned_alloc(4096, KV_BATCH_BYTES);
	if (!s->seg || !s->scratch || !s->sector || !s->batch[0].buf ||
	    !s->batch[1].buf ||
	    kv_index_init(&s->index, opts->max_keys,
			  ingot_boot_info()->random_seed) < 0) {
		snprintf(err, errlen, "out of memory for the store");
		return -ENOMEM;
	}
	s->capacity = (uint64_t)(s->nsegs - 2 * KV_USER_FLOOR) * KV_SEG_DATA;
	s->batch[0].gen = 1;
	s->next_gen = 2;
	int rc = kv_log_recover(s, err, errlen);
	if (rc < 0)
		return rc;
	s->async.done = commit_done;
	s->poller = (struct sched_poller){.poll = commit_poll,
					  .arg = s,
					  .flush = commit_turn,
					  .wake_for = commit_wake_for};
	if (sched_poller_add(&s->poller) < 0) {
		snprintf(err, errlen, "no poller left for the store");
		return -EAGAIN;
	}
	if (sched_spawn(kv_log_compactor, s, "kv-compact") < 0) {
		snprintf(err, errlen, "no fiber left for the store");
		return -EAGAIN;
	}
	*out = s;
	return 0;
}
