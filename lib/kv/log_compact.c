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

#define KV_COMPACT_AT 5 /* free segments at which compaction starts */

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

/* Copies forward what is live in segment i (read into scratch). */
static int move_live(struct kv_log *s, uint32_t i, uint32_t *last_gen,
		     bool *moved)
{
	uint64_t epoch = s->seg[i].epoch;
	int64_t now = kv_log_now_ms();
	for (uint32_t p = KV_SECTOR;
	     p + sizeof(struct kv_rec) <= KV_LOG_SEGMENT;) {
		const struct kv_rec *r =
		    kv_rec_check(s->scratch + p, KV_LOG_SEGMENT - p, epoch);
		if (!r) {
			p += 8;
			continue;
		}
		const unsigned char *key = (const unsigned char *)(r + 1);
		struct kv_entry *e =
		    kv_index_find(&s->index, key, r->klen,
				  kv_index_hash(&s->index, key, r->klen));
		if (r->type == KV_REC_PUT && e && !(e->flags & KV_PENDING) &&
		    e->where == i && e->off == p) {
			if (e->expire_ms && e->expire_ms <= now) {
				s->live_bytes -= e->size;
				s->st.expired++;
				kv_index_remove(&s->index, e);
			} else {
				int rc = kv_log_append(
				    s, KV_REC_PUT, key, r->klen, key + r->klen,
				    r->vlen, r->expire_ms, KV_PUT_IF_VERSION,
				    e->version, true, last_gen);
				if (rc == 0) {
					*moved = true;
					s->st.records_moved++;
				} else if (rc != -EAGAIN) {
					return rc;
				}
			}
		}
		p += kv_rec_size(r->klen, r->vlen);
	}
	return 0;
}

void kv_log_compactor(void *arg)
{
	struct kv_log *s = arg;
	for (;;) {
		uint32_t i = oldest(s);
		if (s->failed || s->nfree > KV_COMPACT_AT || i == UINT32_MAX) {
			sched_wait(&s->compact, UINT64_MAX);
			continue;
		}
		uint32_t gen = 0;
		bool moved = false;
		int rc = blk_read(s->dev, kv_seg_base(i) / KV_SECTOR,
				  s->scratch, KV_LOG_SEGMENT / KV_SECTOR);
		if (rc == 0)
			rc = move_live(s, i, &gen, &moved);
		if (rc == 0 && moved)
			rc = kv_log_wait(s, gen);
		if (rc == 0)
			rc = kv_seg_write_header(s, i, 0);
		if (rc < 0) {
			s->failed = s->failed ? s->failed : rc;
			sched_wake_all(&s->committed);
			sched_wake_all(&s->freed);
			continue;
		}
		s->seg[i].epoch = 0;
		s->nfree++;
		s->st.compactions++;
		sched_wake_all(&s->freed);
	}
}
