/*
 * The flow table: CONFIG_FW_FLOWS flows in a static array, each found
 * from either direction through a chained hash (two entries per flow,
 * entry = flow * 2 + direction), keyed with the boot's random seed so
 * that a sender cannot aim its flows at one bucket.  Flows that are not
 * assured also sit on a list, oldest first: a new flow takes the oldest
 * one's place when the table is full.
 */
#include <string.h>

#include "fw_internal.h"

#define BUCKETS (2 * CONFIG_FW_FLOWS)

static struct fw_flow flows[CONFIG_FW_FLOWS];
static uint32_t buckets[BUCKETS];
static uint32_t free_head;      /* through next */
static uint32_t oldest, newest; /* the unassured list */
static uint32_t listed;         /* flows on it */
static uint32_t sweep;          /* fw_expire's place */
static uint64_t hash_key;
struct fw_stats fw_stats;

void fw_flows_reset(uint64_t seed)
{
	memset(flows, 0, sizeof flows);
	memset(buckets, 0xff, sizeof buckets);
	for (uint32_t i = 0; i < CONFIG_FW_FLOWS; i++)
		flows[i].next = i + 1 < CONFIG_FW_FLOWS ? i + 1 : FW_NIL;
	free_head = 0;
	oldest = newest = FW_NIL;
	listed = sweep = 0;
	hash_key = seed | 1;
	memset(&fw_stats, 0, sizeof fw_stats);
	fw_stats.flows_max = CONFIG_FW_FLOWS;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 33;
}

static uint32_t bucket_of(const struct fw_key *k)
{
	uint64_t h = mix(((uint64_t)k->src << 32 | k->dst) ^ hash_key);
	h = mix(h ^ ((uint64_t)k->query << 40 | (uint64_t)k->sport << 24 |
		     (uint64_t)k->dport << 8 | k->proto));
	/* The high 32 bits scaled to the table (no division). */
	return (uint32_t)(((h >> 32) * BUCKETS) >> 32);
}

/* The key a flow's packets carry in direction dir. */
static struct fw_key dir_key(const struct fw_flow *f, int dir)
{
	if (!dir)
		return f->key;
	return (struct fw_key){
	    f->key.dst,   f->key.src,
	    f->key.dport, f->key.sport,
	    f->key.proto, (uint8_t)(f->key.query ? 3 - f->key.query : 0)};
}

static bool key_equal(const struct fw_key *a, const struct fw_key *b)
{
	return a->src == b->src && a->dst == b->dst && a->sport == b->sport &&
	       a->dport == b->dport && a->proto == b->proto &&
	       a->query == b->query;
}

static void unlist(struct fw_flow *f)
{
	if (!f->listed)
		return;
	if (f->prev != FW_NIL)
		flows[f->prev].next = f->next;
	else
		oldest = f->next;
	if (f->next != FW_NIL)
		flows[f->next].prev = f->prev;
	else
		newest = f->prev;
	f->listed = false;
	listed--;
}

static void list_newest(struct fw_flow *f)
{
	uint32_t i = (uint32_t)(f - flows);
	f->prev = newest;
	f->next = FW_NIL;
	if (newest != FW_NIL)
		flows[newest].next = i;
	else
		oldest = i;
	newest = i;
	f->listed = true;
	listed++;
}

void fw_flow_update_listing(struct fw_flow *f)
{
	bool assured = fw_track_assured(f);
	if (assured && f->listed)
		unlist(f);
	else if (!assured && !f->listed)
		list_newest(f);
}

static void unchain(uint32_t entry, const struct fw_key *k)
{
	uint32_t *link = &buckets[bucket_of(k)];
	while (*link != entry) {
		/* Both entries of each flow are chained while it lives. */
		if (*link == FW_NIL)
			return;
		link = &flows[*link / 2].chain[*link % 2];
	}
	*link = flows[entry / 2].chain[entry % 2];
}

void fw_flow_remove(struct fw_flow *f)
{
	uint32_t i = (uint32_t)(f - flows);
	struct fw_key k1 = dir_key(f, 1);
	unchain(i * 2, &f->key);
	unchain(i * 2 + 1, &k1);
	unlist(f);
	f->expires = 0;
	f->next = free_head;
	free_head = i;
	fw_stats.flows_live--;
}

struct fw_flow *fw_flow_find(const struct fw_key *k, int *dir, uint64_t now)
{
	for (uint32_t e = buckets[bucket_of(k)]; e != FW_NIL;
	     e = flows[e / 2].chain[e % 2]) {
		struct fw_flow *f = &flows[e / 2];
		struct fw_key fk = dir_key(f, (int)(e % 2));
		if (!key_equal(&fk, k))
			continue;
		if (now >= f->expires) {
			fw_flow_remove(f);
			fw_stats.flows_expired++;
			return NULL;
		}
		*dir = (int)(e % 2);
		return f;
	}
	return NULL;
}

static void chain(uint32_t entry, const struct fw_key *k)
{
	uint32_t b = bucket_of(k);
	flows[entry / 2].chain[entry % 2] = buckets[b];
	buckets[b] = entry;
}

struct fw_flow *fw_flow_add(const struct fw_key *k, uint64_t now)
{
	if (free_head == FW_NIL) {
		if (oldest == FW_NIL)
			return NULL;
		struct fw_flow *victim = &flows[oldest];
		if (now >= victim->expires)
			fw_stats.flows_expired++;
		else
			fw_stats.flows_evicted++;
		fw_flow_remove(victim);
	}
	uint32_t i = free_head;
	struct fw_flow *f = &flows[i];
	free_head = f->next;
	memset(f, 0, sizeof *f);
	f->key = *k;
	struct fw_key k1 = dir_key(f, 1);
	chain(i * 2, k);
	chain(i * 2 + 1, &k1);
	fw_stats.flows_live++;
	fw_stats.flows_created++;
	list_newest(f);
	return f;
}

void fw_expire(uint64_t now, unsigned budget)
{
	if (budget > CONFIG_FW_FLOWS)
		budget = CONFIG_FW_FLOWS;
	for (; budget; budget--) {
		struct fw_flow *f = &flows[sweep];
		sweep = sweep + 1 < CONFIG_FW_FLOWS ? sweep + 1 : 0;
		if (f->expires && now >= f->expires) {
			fw_flow_remove(f);
			fw_stats.flows_expired++;
		}
	}
}

void fw_get_stats(struct fw_stats *st)
{
	*st = fw_stats;
	st->flows_assured = fw_stats.flows_live - listed;
}
