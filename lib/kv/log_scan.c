/*
 * Reading a segment's records: pure functions over the segment's bytes,
 * shared by recovery and compaction (and the fuzz harness).  Everything
 * read is untrusted until its checksum holds.
 */
#include <string.h>

#include "log_internal.h"

const struct kv_rec *kv_rec_check(const unsigned char *p, size_t len,
				  uint64_t epoch)
{
	struct kv_rec r;
	if (len < sizeof r)
		return NULL;
	memcpy(&r, p, sizeof r);
	if (r.magic != KV_REC_MAGIC || r.epoch != epoch ||
	    (r.type != KV_REC_PUT && r.type != KV_REC_DEL) ||
	    r.klen > KV_LOG_KEY_MAX || r.vlen > KV_LOG_VALUE_MAX)
		return NULL;
	uint32_t size = kv_rec_size(r.klen, r.vlen);
	if (size > len || kv_crc32c(0, p + 8, size - 8) != r.crc)
		return NULL;
	return (const struct kv_rec *)p;
}

int kv_seg_scan(const unsigned char *seg, uint32_t len, uint64_t epoch,
		kv_rec_fn *fn, void *ctx, struct kv_scan *out)
{
	*out = (struct kv_scan){.end = KV_SECTOR};
	for (uint32_t p = KV_SECTOR; p + sizeof(struct kv_rec) <= len;) {
		const unsigned char *at = seg + p;
		const struct kv_rec *r = kv_rec_check(at, len - p, epoch);
		if (!r) {
			/* Records start 8-byte aligned: after a bad one the
			 * next good one is found by stepping 8 bytes. */
			struct kv_rec h;
			memcpy(&h, at, sizeof h);
			if (h.magic == KV_REC_MAGIC && h.epoch == epoch)
				out->bad_tail++;
			p += 8;
			continue;
		}
		out->corrupt += out->bad_tail;
		out->bad_tail = 0;
		int rc = fn(ctx, r, p);
		if (rc < 0)
			return rc;
		p += kv_rec_size(r->klen, r->vlen);
		out->end = p;
	}
	return 0;
}
