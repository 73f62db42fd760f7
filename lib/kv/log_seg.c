/* The log store's segment headers and record checks. */
#include <string.h>

#include "log_internal.h"

int kv_seg_write_header(struct kv_log *s, uint32_t i, uint64_t epoch)
{
	memset(s->sector, 0, KV_SECTOR);
	if (epoch) {
		struct kv_seg_header h = {
		    .magic = KV_SEG_MAGIC, .epoch = epoch, .index = i};
		h.crc = kv_crc32c(0, &h.epoch, sizeof h - 8);
		memcpy(s->sector, &h, sizeof h);
	}
	return blk_write(s->dev, kv_seg_base(i) / KV_SECTOR, s->sector, 1);
}

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
