/* The log store's segment headers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log_internal.h"

void kv_seg_header_fill(unsigned char *sector, uint32_t i, uint64_t epoch)
{
	memset(sector, 0, KV_SECTOR);
	if (epoch) {
		struct kv_seg_header h = {
		    .magic = KV_SEG_MAGIC, .epoch = epoch, .index = i};
		h.crc = kv_crc32c(0, &h.epoch, sizeof h - 8);
		memcpy(sector, &h, sizeof h);
	}
}

int kv_seg_write_header(struct kv_log *s, uint32_t i, uint64_t epoch)
{
	/* A buffer of its own: a request's buffer is read when the host
	 * serves it, and the compactor's header writes may overlap a
	 * commit's. */
	unsigned char *sector = aligned_alloc(KV_SECTOR, KV_SECTOR);
	if (!sector)
		return -ENOMEM;
	kv_seg_header_fill(sector, i, epoch);
	int rc = blk_write(s->dev, kv_seg_base(i) / KV_SECTOR, sector, 1);
	free(sector);
	return rc;
}
