/*
 * kv_tar over a block device (kv.h): the index from tar_index.c, read
 * through a window of sectors, and file contents read on demand through
 * the same window.  The window is the store's one buffer, so readers take
 * turns at it (a fiber waiting on the device keeps it).
 */
#include <errno.h>
#include <ingot/blk.h>
#include <ingot/kv.h>
#include <ingot/sched.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW (64 * 1024)

struct kv_tar {
	struct blk_dev *dev;
	struct kv_tar_file *files;
	size_t n;
	unsigned char *win; /* WINDOW bytes, sector-aligned */
	uint64_t win_off, win_len;
	bool busy;
	struct sched_waitq turn;
};

static void take(struct kv_tar *t)
{
	while (t->busy)
		sched_wait(&t->turn, UINT64_MAX);
	t->busy = true;
}

static void give(struct kv_tar *t)
{
	t->busy = false;
	sched_wake_one(&t->turn);
}

/* Bytes [off, off + len) of the device, the caller holding the window. */
static int window_read(struct kv_tar *t, uint64_t off, void *buf, size_t len)
{
	uint32_t ss = blk_sector_size(t->dev);
	uint64_t dev_size = blk_sectors(t->dev) * ss;
	unsigned char *out = buf;

	if (off > dev_size || len > dev_size - off)
		return -EINVAL;
	while (len) {
		if (off < t->win_off || off >= t->win_off + t->win_len) {
			uint64_t start = off - off % ss;
			uint64_t n = dev_size - start < WINDOW
					 ? dev_size - start
					 : WINDOW;
			t->win_len = 0;
			int rc = blk_read(t->dev, start / ss, t->win,
					  (uint32_t)(n / ss));
			if (rc < 0)
				return rc;
			t->win_off = start;
			t->win_len = n;
		}
		size_t k = (size_t)(t->win_off + t->win_len - off);
		if (k > len)
			k = len;
		memcpy(out, t->win + (off - t->win_off), k);
		out += k;
		off += k;
		len -= k;
	}
	return 0;
}

static int reader(void *ctx, uint64_t off, void *buf, size_t len)
{
	return window_read(ctx, off, buf, len);
}

int kv_tar_mount(struct blk_dev *d, struct kv_tar **out, char *err,
		 size_t errlen)
{
	struct kv_tar *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->dev = d;
	t->win = aligned_alloc(4096, WINDOW);
	if (!t->win) {
		free(t);
		return -ENOMEM;
	}
	take(t);
	int rc = kv_tar_index(reader, t, blk_sectors(d) * blk_sector_size(d),
			      &t->files, &t->n, err, errlen);
	give(t);
	if (rc < 0) {
		free(t->win);
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static int by_key(const void *key, const void *f)
{
	return strcmp(key, ((const struct kv_tar_file *)f)->path);
}

const struct kv_tar_file *kv_tar_find(const struct kv_tar *t, const char *path)
{
	char norm[4097];
	if (kv_path_normalise(path, strlen(path), norm, sizeof norm) < 0)
		return NULL;
	return bsearch(norm, t->files, t->n, sizeof t->files[0], by_key);
}

size_t kv_tar_count(const struct kv_tar *t)
{
	return t->n;
}

const struct kv_tar_file *kv_tar_file(const struct kv_tar *t, size_t i)
{
	return i < t->n ? &t->files[i] : NULL;
}

long kv_tar_read(struct kv_tar *t, const struct kv_tar_file *f, uint64_t off,
		 void *buf, size_t len)
{
	if (off >= f->size)
		return 0;
	if (len > f->size - off)
		len = (size_t)(f->size - off);
	take(t);
	int rc = window_read(t, f->offset + off, buf, len);
	give(t);
	return rc < 0 ? rc : (long)len;
}
