/*
 * libFuzzer over the storage parsers: the first byte picks one, the rest
 * is its input.
 *   0: apps/kv's RESP parser, request after request over the bytes
 *   1: lib/kv's tar indexer over the bytes as an archive in memory
 *   2: lib/kv's record scan (the log's recovery) over the bytes as a
 *      segment, the first 8 bytes its epoch, every good record replayed
 *      into an index as recovery does
 * Each checks what it was given back: arguments inside the input, file
 * contents inside the archive, records inside the segment.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../apps/kv/resp.h"
#include "../../lib/kv/log_internal.h"

static void resp(const uint8_t *data, size_t size)
{
	static struct resp_cmd cmd;
	const char *buf = (const char *)data, *err;
	size_t at = 0;
	while (at < size) {
		long n = resp_parse(buf + at, size - at, &cmd, &err);
		if (n <= 0) {
			assert(n == 0 || strlen(err) > 0);
			return;
		}
		assert((size_t)n <= size - at);
		for (int i = 0; i < cmd.argc; i++)
			assert(cmd.argv[i] >= buf + at &&
			       cmd.argv[i] + cmd.len[i] <= buf + at + n);
		at += (size_t)n;
	}
}

struct mem {
	const uint8_t *p;
	size_t n;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct mem *m = ctx;
	assert(off <= m->n && len <= m->n - off);
	memcpy(buf, m->p + off, len);
	return 0;
}

static void tar(const uint8_t *data, size_t size)
{
	struct mem m = {data, size};
	struct kv_tar_file *files;
	size_t n;
	char err[200];
	if (kv_tar_index(mem_read, &m, size, &files, &n, err, sizeof err) < 0) {
		assert(strncmp(err, "malformed tar header at offset ", 31) ==
		       0);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		assert(files[i].offset <= size &&
		       files[i].size <= size - files[i].offset);
		assert(files[i].path[0] && files[i].path[0] != '/');
		assert(!i || strcmp(files[i - 1].path, files[i].path) < 0);
	}
	kv_tar_index_free(files, n);
}

struct replay {
	struct kv_index index;
	uint32_t len;
};

static int apply(void *ctx, const struct kv_rec *r, uint32_t off)
{
	struct replay *x = ctx;
	const unsigned char *key = (const unsigned char *)(r + 1);
	assert(off + kv_rec_size(r->klen, r->vlen) <= x->len);
	uint32_t h = kv_index_hash(&x->index, key, r->klen);
	struct kv_entry *e = kv_index_find(&x->index, key, r->klen, h);
	if (r->type == KV_REC_DEL) {
		if (e)
			kv_index_remove(&x->index, e);
		return 0;
	}
	bool added;
	e = kv_index_add(&x->index, key, r->klen, h, &added);
	if (!e)
		return -ENOSPC;
	e->off = off;
	assert(kv_index_find(&x->index, key, r->klen, h) == e);
	return 0;
}

static void segment(const uint8_t *data, size_t size)
{
	struct replay x;
	struct kv_scan scan;
	uint64_t epoch;
	if (size < 8 || size > KV_LOG_SEGMENT + 8)
		return;
	memcpy(&epoch, data, 8);
	x.len = (uint32_t)(size - 8);
	if (kv_index_init(&x.index, 64, 1) < 0)
		return;
	/* Segments sit in aligned buffers, records 8-aligned within them. */
	unsigned char *seg = malloc(x.len ? x.len : 1);
	memcpy(seg, data + 8, x.len);
	kv_seg_scan(seg, x.len, epoch, apply, &x, &scan);
	free(seg);
	assert(scan.end <= (x.len > KV_SECTOR ? x.len : KV_SECTOR));
	for (size_t i = 0; i <= x.index.mask; i++)
		free(x.index.slot[i].key);
	free(x.index.slot);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		resp(data + 1, size - 1);
		break;
	case 1:
		tar(data + 1, size - 1);
		break;
	default:
		segment(data + 1, size - 1);
	}
	return 0;
}
