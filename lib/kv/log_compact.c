/*
 * The compactor: when free segments run low it takes the oldest segment
 * but the head, copies forward the records the index still points at (as
 * ordinary appends, each only if the key did not change meanwhile), waits
 * until they are written, and frees the segment.  Oldest first means a
 * delete's record can be dropped with its segment: every older record of
 * its key was in that segment or an older one, already gone.  Readers
 * never wait: one that read a moved record finds out by its check and
 * looks again.
 */
#include <errno.h>
#include <string.h>

#include "log_internal.h"

#define KV_COMPACT_AT 5            /* free segments that start compaction */
#define KV_RECHECK_NS 100000000ULL /* how often to look for garbage */

static uint32_t oldest(const struct kv_log *s)
{
	uint32_t best = UINT32_MAX;
	for (uint32_t i = 0; i < s->nsegs; i++)
		if (s->seg[i].epoch && i != s->head &&
		    (best == UINT32_MAX ||
		     s->seg[i].epoch < s->seg[best].epoch))
			best = i;
	return best;
}

struct moving {
	struct kv_log *s;
	uint32_t seg;
	int64_t now;
	uint32_t gen; /* of the batch holding the last copy */
	bool moved;
};

/* Copies forward one record of the segment if the index still points at
 * it; an expired one is forgotten instead. */
static int move_one(void *ctx, const struct kv_rec *r, uint32_t off)
{
	struct moving *m = ctx;
	struct kv_log *s = m->s;
	const unsigned char *key = (const unsigned char *)(r + 1);
	struct kv_entry *e = kv_index_find(
	    &s->index, key, r->klen, kv_index_hash(&s->index, key, r->klen));
	if (r->type != KV_REC_PUT || !e || (e->flags & KV_PENDING) ||
	    e->where != m->seg || e->off != off)
		return 0;
	if (e->expire_ms && e->expire_ms <= m->now) {
		s->live_bytes -= e->size;
		s->st.expired++;
		kv_index_remove(&s->index, e);
		return 0;
	}
	int rc = kv_log_append(s, KV_REC_PUT, key, r->klen, key + r->klen,
			       r->vlen, r->expire_ms, KV_PUT_IF_VERSION,
			       e->version, true, &m->gen);
	if (rc == -EAGAIN)
		return 0; /* changed meanwhile: nothing to keep */
	if (rc == 0) {
		m->moved = true;
		s->st.records_moved++;
	}
	return rc;
}

bool kv_log_reclaimable(const struct kv_log *s)
{
	return s->used_bytes - s->live_bytes >= KV_SEG_DATA;
}

void kv_log_compactor(void *arg)
{
	struct kv_log *s = arg;
	for (;;) {
		uint32_t i = oldest(s);
		/* Less than a segment of garbage in all: no pass could free
		 * one, so look again later (deletes and overwrites make more;
		 * the capacity limit keeps clients from filling the rest). */
		bool worth = kv_log_reclaimable(s);
		if (s->failed || s->nfree > KV_COMPACT_AT || i == UINT32_MAX ||
		    !worth) {
			sched_wait(&s->compact,
				   worth ? UINT64_MAX
					 : sched_now() + KV_RECHECK_NS);
			continue;
		}
		struct moving m = {s, i, kv_log_now_ms(), 0, false};
		struct kv_scan scan;
		int rc = blk_read(s->dev, kv_seg_base(i) / KV_SECTOR,
				  s->scratch, KV_LOG_SEGMENT / KV_SECTOR);
		if (rc == 0)
			rc = kv_seg_scan(s->scratch, KV_LOG_SEGMENT,
					 s->seg[i].epoch, move_one, &m, &scan);
		if (rc == 0 && m.moved)
			rc = kv_log_wait(s, m.gen);
		if (rc == 0)
			rc = kv_seg_write_header(s, i, 0);
		if (rc < 0) {
			s->failed = s->failed ? s->failed : rc;
			sched_wake_all(&s->committed);
			sched_wake_all(&s->freed);
			continue;
		}
		s->seg[i].epoch = 0;
		s->used_bytes -= s->seg[i].used;
		s->seg[i].used = 0;
		s->nfree++;
		s->st.compactions++;
		sched_wake_all(&s->freed);
	}
}
