/*
 * Mounting the log store: the superblock (formatting a device of zeros),
 * the segment headers, then every live segment's records in epoch order.
 * A record whose checksum fails is skipped: if valid records follow it
 * was corrupted in place (counted, reported); if none do, it is the tail of
 * a write that never completed, which nobody was told had succeeded
 * (dropped, reported, and zeroed so that it is not found again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_internal.h"

#define HEADERS_PER_READ 2048

static int fail(char *err, size_t errlen, int rc, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return rc;
}

static uint32_t super_crc(const struct kv_super *sb)
{
	return kv_crc32c(0, sb, offsetof(struct kv_super, crc));
}

static bool zeros(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int format(struct kv_log *s)
{
	for (uint32_t i = 0; i < s->nsegs; i++) {
		int rc = kv_seg_write_header(s, i, 0);
		if (rc < 0)
			return rc;
	}
	struct kv_super sb = {.magic = KV_SB_MAGIC,
			      .version = 1,
			      .segment_size = KV_LOG_SEGMENT,
			      .segments = s->nsegs};
	sb.crc = super_crc(&sb);
	memset(s->sector, 0, KV_SECTOR);
	memcpy(s->sector, &sb, sizeof sb);
	int rc = blk_write(s->dev, 0, s->sector, 1);
	return rc < 0 ? rc : blk_flush(s->dev);
}

static int superblock(struct kv_log *s, char *err, size_t errlen)
{
	int rc = blk_read(s->dev, 0, s->sector, 1);
	if (rc < 0)
		return fail(err, errlen, rc, "cannot read the superblock");
	if (zeros(s->sector, KV_SECTOR)) {
		rc = format(s);
		return rc < 0 ? fail(err, errlen, rc, "cannot format") : 0;
	}
	struct kv_super sb;
	memcpy(&sb, s->sector, sizeof sb);
	if (memcmp(sb.magic, KV_SB_MAGIC, 8) != 0 || sb.crc != super_crc(&sb))
		return fail(err, errlen, -EBADMSG,
			    "not a kv store: sector 0 is neither zeros nor "
			    "a store's superblock");
	if (sb.version != 1 || sb.segment_size != KV_LOG_SEGMENT ||
	    sb.segments > s->nsegs)
		return fail(err, errlen, -EBADMSG,
			    "the store's layout is not this version's, or the "
			    "device shrank");
	s->nsegs = sb.segments;
	return 0;
}

static int headers(struct kv_log *s)
{
	struct blk_io io[64];
	for (uint32_t first = 0; first < s->nsegs; first += HEADERS_PER_READ) {
		uint32_t n = s->nsegs - first < HEADERS_PER_READ
				 ? s->nsegs - first
				 : HEADERS_PER_READ;
		for (uint32_t k = 0; k < n; k += 64) {
			unsigned m = n - k < 64 ? n - k : 64;
			for (unsigned j = 0; j < m; j++)
				io[j] = (struct blk_io){
				    .op = INGOT_BLOCK_READ,
				    .count = 1,
				    .sector =
					kv_seg_base(first + k + j) / KV_SECTOR,
				    .buf = s->scratch + (k + j) * KV_SECTOR};
			int rc = blk_batch(s->dev, io, m);
			if (rc < 0)
				return rc;
		}
		for (uint32_t j = 0; j < n; j++) {
			struct kv_seg_header h;
			memcpy(&h, s->scratch + j * KV_SECTOR, sizeof h);
			bool ok = h.magic == KV_SEG_MAGIC && h.epoch &&
				  h.index == first + j &&
				  h.crc == kv_crc32c(0, &h.epoch, sizeof h - 8);
			s->seg[first + j].epoch = ok ? h.epoch : 0;
			if (!ok)
				s->nfree++;
			else if (h.epoch > s->max_epoch)
				s->max_epoch = h.epoch;
		}
	}
	return 0;
}

struct replaying {
	struct kv_log *s;
	uint32_t seg;
	int64_t now;
};

static int apply(void *ctx, const struct kv_rec *r, uint32_t off)
{
	struct replaying *x = ctx;
	struct kv_log *s = x->s;
	const unsigned char *key = (const unsigned char *)(r + 1);
	uint32_t hash = kv_index_hash(&s->index, key, r->klen);
	struct kv_entry *e = kv_index_find(&s->index, key, r->klen, hash);
	s->st.recovered++;
	if (r->type == KV_REC_DEL || (r->expire_ms && r->expire_ms <= x->now)) {
		if (e) {
			s->live_bytes -= e->size;
			kv_index_remove(&s->index, e);
		}
		return 0;
	}
	bool added;
	e = kv_index_add(&s->index, key, r->klen, hash, &added);
	if (!e)
		return -ENOSPC;
	bool keep = r->vlen <= s->opts.inline_max;
	if (!kv_index_keep_value(e, keep ? key + r->klen : NULL, r->vlen)) {
		if (added)
			kv_index_remove(&s->index, e);
		return -ENOSPC;
	}
	uint32_t size = kv_rec_size(r->klen, r->vlen);
	s->live_bytes = s->live_bytes - (added ? 0 : e->size) + size;
	e->version = ++s->version;
	e->expire_ms = r->expire_ms;
	e->flags &= KV_INLINE;
	e->vlen = r->vlen;
	e->where = x->seg;
	e->off = off;
	e->size = size;
	return 0;
}

/* Replays segment i (in s->scratch). */
static int replay(struct kv_log *s, uint32_t i, struct kv_scan *scan)
{
	struct replaying x = {s, i, kv_log_now_ms()};
	return kv_seg_scan(s->scratch, KV_LOG_SEGMENT, s->seg[i].epoch, apply,
			   &x, scan);
}

static uint64_t *order_epochs;
static int by_epoch(const void *a, const void *b)
{
	uint64_t x = order_epochs[*(const uint32_t *)a];
	uint64_t y = order_epochs[*(const uint32_t *)b];
	return x < y ? -1 : x > y;
}

int kv_log_recover(struct kv_log *s, char *err, size_t errlen)
{
	int rc = superblock(s, err, errlen);
	if (rc < 0)
		return rc;
	rc = headers(s);
	if (rc < 0)
		return fail(err, errlen, rc, "cannot read the segment headers");
	uint32_t *live = malloc(s->nsegs * sizeof *live);
	uint64_t *epochs = malloc(s->nsegs * sizeof *epochs);
	if (!live || !epochs)
		return fail(err, errlen, -ENOMEM, "out of memory");
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->nsegs; i++) {
		epochs[i] = s->seg[i].epoch;
		if (epochs[i])
			live[n++] = i;
	}
	order_epochs = epochs;
	qsort(live, n, sizeof *live, by_epoch);
	struct kv_scan scan = {0};
	s->head = UINT32_MAX;
	for (uint32_t k = 0; k < n && rc == 0; k++) {
		rc = blk_read(s->dev, kv_seg_base(live[k]) / KV_SECTOR,
			      s->scratch, KV_LOG_SEGMENT / KV_SECTOR);
		if (rc == 0)
			rc = replay(s, live[k], &scan);
		s->seg[live[k]].used = scan.end - KV_SECTOR;
		s->used_bytes += scan.end - KV_SECTOR;
		s->st.recovered_corrupt += scan.corrupt;
		/* Bad records at the end of any segment but the head are not
		 * a write in progress: the head moved on past them. */
		if (k + 1 < n)
			s->st.recovered_corrupt += scan.bad_tail;
	}
	uint32_t last = n ? live[n - 1] : UINT32_MAX, end = scan.end;
	free(live);
	free(epochs);
	if (rc == -ENOSPC)
		return fail(err, errlen, rc,
			    "the store holds more keys (or small values) than "
			    "memory has room for (give the guest more memory)");
	if (rc < 0)
		return fail(err, errlen, rc, "cannot read a segment");
	if (n) {
		s->head = last;
		s->head_off =
		    (end + KV_SECTOR - 1) & ~(uint32_t)(KV_SECTOR - 1);
		s->st.recovered_dropped = scan.bad_tail;
	}
	if (n && scan.bad_tail) {
		/* Zeros over the torn tail, so that the next mount does not
		 * find it again behind the records written after it.  It may
		 * start inside the sector of the last good record: that
		 * sector is rewritten with its good bytes (the scratch holds
		 * the head, replayed last). */
		uint32_t from = end & ~(uint32_t)(KV_SECTOR - 1);
		memset(s->scratch + end, 0, KV_LOG_SEGMENT - end);
		rc = blk_write(
		    s->dev, (kv_seg_base(s->head) + from) / KV_SECTOR,
		    s->scratch + from, (KV_LOG_SEGMENT - from) / KV_SECTOR);
		if (rc == 0)
			rc = blk_flush(s->dev);
		if (rc < 0)
			return fail(err, errlen, rc,
				    "cannot zero the torn tail");
	}
	return 0;
}
