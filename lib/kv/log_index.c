/*
 * The log store's index: open addressing with linear probing over a table
 * sized at mount (so memory is bounded and nothing rehashes), a keyed hash
 * (the seed comes from the host's random seed, so clients cannot aim keys
 * at one chain), deletion by shifting the chain back (no tombstones).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log_internal.h"

int kv_index_init(struct kv_index *x, size_t max_keys, uint64_t seed)
{
	size_t cap = 16;
	while (cap < max_keys + max_keys / 3 + 1)
		cap *= 2;
	x->slot = calloc(cap, sizeof x->slot[0]);
	if (!x->slot)
		return -ENOMEM;
	x->mask = cap - 1;
	x->count = 0;
	x->max = max_keys;
	x->seed = seed | 1;
	return 0;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

uint32_t kv_index_hash(const struct kv_index *x, const void *key, size_t klen)
{
	const unsigned char *p = key;
	uint64_t h = x->seed ^ (klen * 0x9e3779b97f4a7c15ULL);
	while (klen >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = mix(h ^ w);
		p += 8;
		klen -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, klen);
	return (uint32_t)mix(h ^ w ^ ((uint64_t)klen << 56));
}

struct kv_entry *kv_index_find(struct kv_index *x, const void *key, size_t klen,
			       uint32_t hash)
{
	for (size_t i = hash & x->mask;; i = (i + 1) & x->mask) {
		struct kv_entry *e = &x->slot[i];
		if (!e->key)
			return NULL;
		if (e->hash == hash && e->klen == klen &&
		    memcmp(e->key, key, klen) == 0)
			return e;
	}
}

struct kv_entry *kv_index_add(struct kv_index *x, const void *key, size_t klen,
			      uint32_t hash, bool *added)
{
	size_t i = hash & x->mask;
	*added = false;
	for (;; i = (i + 1) & x->mask) {
		struct kv_entry *e = &x->slot[i];
		if (!e->key)
			break;
		if (e->hash == hash && e->klen == klen &&
		    memcmp(e->key, key, klen) == 0)
			return e;
	}
	if (x->count >= x->max)
		return NULL;
	char *copy = malloc(klen ? klen : 1);
	if (!copy)
		return NULL;
	memcpy(copy, key, klen);
	x->slot[i] = (struct kv_entry){
	    .key = copy, .hash = hash, .klen = (uint16_t)klen};
	x->count++;
	*added = true;
	return &x->slot[i];
}

void kv_index_remove(struct kv_index *x, struct kv_entry *e)
{
	size_t i = (size_t)(e - x->slot);
	free(e->key);
	x->slot[i].key = NULL;
	x->count--;
	/* Moves back each later entry of the chain that the hole would cut
	 * off from its home slot. */
	for (size_t j = (i + 1) & x->mask; x->slot[j].key;
	     j = (j + 1) & x->mask) {
		size_t home = x->slot[j].hash & x->mask;
		bool reachable =
		    i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (reachable)
			continue;
		x->slot[i] = x->slot[j];
		x->slot[j].key = NULL;
		i = j;
	}
}

bool kv_index_keep_value(struct kv_entry *e, const void *val, size_t vlen)
{
	size_t n = e->klen + (val ? vlen : 0);
	char *block = realloc(e->key, n ? n : 1);
	if (!block)
		return false;
	e->key = block;
	if (val) {
		memcpy(block + e->klen, val, vlen);
		e->flags |= KV_INLINE;
	} else {
		e->flags &= (uint16_t)~KV_INLINE;
	}
	return true;
}
