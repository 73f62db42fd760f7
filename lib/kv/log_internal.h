/* lib/kv's log store internals: the on-device format and the store. */
#ifndef KV_LOG_INTERNAL_H
#define KV_LOG_INTERNAL_H

#include <ingot/blk.h>
#include <ingot/kv.h>
#include <ingot/sched.h>
#include <stddef.h>
#include <stdint.h>

/*
 * On the device: the superblock in sector 0, then from byte KV_BASE
 * segments of KV_LOG_SEGMENT bytes.  A segment's first sector is its header
 * (zeros: free); records follow, 8-byte aligned, each batch of them
 * starting on a sector.
 */
#define KV_BASE        4096
#define KV_SECTOR      512
#define KV_SB_MAGIC    "ingotkv1"
#define KV_SEG_MAGIC   0x4753564bU /* "KVSG" */
#define KV_REC_MAGIC   0x4352564bU /* "KVRC" */
#define KV_BATCH_BYTES (KV_LOG_VALUE_MAX + KV_LOG_KEY_MAX + 4096)
#define KV_SEG_DATA    (KV_LOG_SEGMENT - KV_SECTOR)

struct kv_super {
	char magic[8];
	uint32_t version; /* 1 */
	uint32_t segment_size;
	uint32_t segments;
	uint32_t crc; /* of the bytes before it */
};

struct kv_seg_header {
	uint32_t magic;
	uint32_t crc; /* of the bytes after it */
	uint64_t epoch;
	uint32_t index;
	uint32_t reserved;
};

enum { KV_REC_PUT = 1, KV_REC_DEL = 2 };

struct kv_rec {
	uint32_t magic;
	uint32_t crc;   /* of everything after it: header rest, key, value */
	uint64_t epoch; /* its segment's */
	uint8_t type;
	uint8_t pad;
	uint16_t klen;
	uint32_t vlen;
	int64_t expire_ms;
};

static inline uint32_t kv_rec_size(uint32_t klen, uint32_t vlen)
{
	return (uint32_t)((sizeof(struct kv_rec) + klen + vlen + 7) & ~7UL);
}

/* --- the index
 * --------------------------------------------------------------*/

#define KV_PENDING 1 /* the record is in a batch buffer, not yet written */
#define KV_INLINE  2 /* the value follows the key in key's block */

struct kv_entry {
	char *key; /* NULL: the slot is empty */
	uint64_t version;
	int64_t expire_ms;
	uint32_t hash;
	uint16_t klen;
	uint16_t flags;
	uint32_t vlen;
	uint32_t where; /* segment, or the batch's generation if pending */
	uint32_t off;   /* the record's offset in the segment or batch */
	uint32_t size;  /* the record's bytes */
};

struct kv_index {
	struct kv_entry *slot;
	size_t mask, count, max;
	uint64_t seed;
};

int kv_index_init(struct kv_index *x, size_t max_keys, uint64_t seed);
uint32_t kv_index_hash(const struct kv_index *x, const void *key, size_t klen);
struct kv_entry *kv_index_find(struct kv_index *x, const void *key, size_t klen,
			       uint32_t hash);
/* The entry for key, made (key copied, other fields zero) if absent:
 * NULL when the index is full or memory ran out. */
struct kv_entry *kv_index_add(struct kv_index *x, const void *key, size_t klen,
			      uint32_t hash, bool *added);
void kv_index_remove(struct kv_index *x, struct kv_entry *e);
/* Keeps val (vlen bytes) after e's key, or no value if val is NULL, and
 * sets or clears KV_INLINE: false, e unchanged, if memory ran out. */
bool kv_index_keep_value(struct kv_entry *e, const void *val, size_t vlen);

/* --- the store
 * --------------------------------------------------------------*/

struct kv_batch {
	unsigned char *buf; /* KV_BATCH_BYTES, sector-aligned */
	uint32_t len;
	uint32_t gen;
};

struct kv_seg {
	uint64_t epoch; /* 0: free */
	uint32_t used;  /* bytes of records (and padding) written to it */
};

struct kv_log {
	struct blk_dev *dev;
	struct kv_log_options opts;
	struct kv_index index;
	uint32_t nsegs;
	struct kv_seg *seg;
	uint32_t nfree;
	uint64_t max_epoch;
	uint32_t head;     /* the segment being written */
	uint32_t head_off; /* where the next batch goes in it */
	struct kv_batch batch[2];
	unsigned fill; /* batch[fill] takes records */
	/* The commit in flight (log.c): its batch, or NULL; its requests (a
	 * new head's header, the records, the flush). */
	struct kv_batch *committing;
	struct blk_io io[3];
	unsigned nio;
	struct blk_async async;
	struct sched_poller poller;
	uint32_t next_gen;
	uint32_t committed_gen; /* every batch up to it is written */
	int failed;             /* a write failed: every change now fails */
	uint64_t version;
	uint64_t live_bytes, capacity;
	uint64_t
	    used_bytes; /* sum of the segments' used: less live is garbage */
	struct sched_waitq committed, room, freed, compact;
	unsigned char *scratch; /* KV_LOG_SEGMENT: recovery, compaction */
	unsigned char *sector;  /* one sector: recovery's, then the commits'
				   new head headers */
	struct kv_log_stats st;
};

uint32_t kv_crc32c(uint32_t crc, const void *data, size_t len);

/* Offset in bytes of segment i on the device. */
static inline uint64_t kv_seg_base(uint32_t i)
{
	return KV_BASE + (uint64_t)i * KV_LOG_SEGMENT;
}

/* log_scan.c: a checked record at p (len bytes left in the segment) of
 * epoch, or NULL. */
const struct kv_rec *kv_rec_check(const unsigned char *p, size_t len,
				  uint64_t epoch);

/* Calls fn(ctx, record, offset) for each good record of epoch in the
 * segment seg (len bytes, header included), in order, stopping at fn's
 * first error.  out gets the end of the last good record, the bad records
 * after it (a torn tail if this is the head) and those before good ones
 * (corrupt). */
typedef int kv_rec_fn(void *ctx, const struct kv_rec *r, uint32_t off);
struct kv_scan {
	uint32_t end;
	uint64_t bad_tail, corrupt;
};
int kv_seg_scan(const unsigned char *seg, uint32_t len, uint64_t epoch,
		kv_rec_fn *fn, void *ctx, struct kv_scan *out);

/* log_recover.c: formats or replays the device into s. */
int kv_log_recover(struct kv_log *s, char *err, size_t errlen);

/* log_seg.c: segment headers: one sector's bytes (zeros for epoch 0, a
 * free segment), and writing them. */
void kv_seg_header_fill(unsigned char *sector, uint32_t i, uint64_t epoch);
int kv_seg_write_header(struct kv_log *s, uint32_t i, uint64_t epoch);

/* log.c: appends a record to the batch being filled (see kv_log_put);
 * internal appends (compaction) never wait for room on the device. */
int kv_log_append(struct kv_log *s, uint8_t type, const void *key, size_t klen,
		  const void *val, size_t vlen, int64_t expire_ms,
		  unsigned flags, uint64_t version, bool internal,
		  uint32_t *gen);
int kv_log_wait(struct kv_log *s, uint32_t gen);

/* log_compact.c: the compactor fiber. */
void kv_log_compactor(void *arg);

/* Whether a compaction pass could free a segment: a segment's worth of
 * garbage in all. */
bool kv_log_reclaimable(const struct kv_log *s);

#endif
