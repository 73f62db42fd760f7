/*
 * Files from a tar disk: the block device "site", if attached, holds an
 * archive made by plain tar (tar -cf site.tar -C dir .), which lib/kv's
 * read-only store indexes at start.  Each regular file becomes an entry of
 * the same layout as the compiled site's (lib/http/site.h), sorted the
 * same way, with a directory's index.html under "/dir/" as well, so the
 * answers (types, validators, ranges, conditionals, redirects) come from
 * one code path; only the body is read from the disk, in chunks.
 *
 * A path on the disk hides the same path compiled in: the disk is what
 * an operator changes without a rebuild.  An entry's strong ETag is made
 * of the file's offset in the archive, its size and its mtime: another
 * archive on the device changes one of them for any file it changes
 * (unless it holds the same sizes at the same offsets with the same
 * mtimes), and the device cannot change while mounted.
 */
#include <errno.h>
#include <ingot/blk.h>
#include <ingot/kv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/http/media.h"
#include "http_app.h"

/* Bytes a connection reads from the disk at a time: its memory for a
 * body, whatever the file's size. */
#define CHUNK    (16 * 1024)
#define ETAG_MAX 64

struct disk_entry {
	struct http_file file;
	const struct kv_tar_file *tar;
};

static struct kv_tar *store;
/* The entries, sorted: files[i] is served from tars[i]. */
static struct http_file *files;
static const struct kv_tar_file **tars;
static uint32_t nfiles;

static int by_path(const void *a, const void *b)
{
	const struct http_file *x = &((const struct disk_entry *)a)->file;
	const struct http_file *y = &((const struct disk_entry *)b)->file;
	return http_path_cmp(x->path, x->path_len, y->path, y->path_len);
}

/* The entry e for tar file t under URL path "/" + t's path, or "/dir/"
 * for its directory's index (index true): 0 or -ENOMEM. */
static int add(struct disk_entry *e, const struct kv_tar_file *t, bool index)
{
	size_t plen = strlen(t->path);
	if (index)
		plen -= strlen("index.html");
	char *path = malloc(plen + 2);
	char *etag = malloc(ETAG_MAX);
	char *date = malloc(HTTP_DATE_LEN + 1);
	if (!path || !etag || !date)
		return -ENOMEM;
	path[0] = '/';
	memcpy(path + 1, t->path, plen);
	path[plen + 1] = '\0';
	int n =
	    snprintf(etag, ETAG_MAX, "\"t%llx-%llx-%llx\"",
		     (unsigned long long)t->offset, (unsigned long long)t->size,
		     (unsigned long long)t->mtime);
	http_format_date((int64_t)t->mtime, date);
	bool compressible;
	const char *type = http_media_type(t->path, &compressible);
	*e = (struct disk_entry){
	    .file =
		{
		    .path = path,
		    .path_len = (uint32_t)plen + 1,
		    .flags = index ? HTTP_FILE_INDEX : 0,
		    .type_len = (uint8_t)strlen(type),
		    .type = type,
		    .last_modified = date,
		    .mtime = (int64_t)t->mtime,
		    .body[HTTP_ENC_IDENTITY] = {NULL, t->size, (uint8_t)n,
						etag},
		},
	    .tar = t,
	};
	return 0;
}

static bool is_index(const char *path)
{
	size_t n = strlen(path);
	return strcmp(path, "index.html") == 0 ||
	       (n > 11 && strcmp(path + n - 11, "/index.html") == 0);
}

int http_disk_mount(void)
{
	struct blk_dev *d = blk_open("site");
	if (!d)
		return 0;
	char err[160];
	int rc = kv_tar_mount(d, &store, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr,
			"http: the tar archive on block device site: %s\n",
			rc == -EBADMSG ? err : strerror(-rc));
		return rc;
	}
	size_t n = kv_tar_count(store), aliases = 0;
	for (size_t i = 0; i < n; i++)
		aliases += is_index(kv_tar_file(store, i)->path);
	size_t total = n + aliases, k = 0;
	struct disk_entry *entries = calloc(total + 1, sizeof *entries);
	files = calloc(total + 1, sizeof *files);
	tars = calloc(total + 1, sizeof *tars);
	if (!entries || !files || !tars || total > UINT32_MAX)
		return -ENOMEM;
	uint64_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		const struct kv_tar_file *t = kv_tar_file(store, i);
		bytes += t->size;
		if (add(&entries[k++], t, false) < 0 ||
		    (is_index(t->path) && add(&entries[k++], t, true) < 0))
			return -ENOMEM;
	}
	qsort(entries, total, sizeof *entries, by_path);
	for (size_t i = 0; i < total; i++) {
		files[i] = entries[i].file;
		tars[i] = entries[i].tar;
	}
	nfiles = (uint32_t)total;
	free(entries);
	printf("http: %zu files (%llu bytes) from the tar archive on block "
	       "device site\n",
	       n, (unsigned long long)bytes);
	return 0;
}

const struct http_file *http_find(const char *path, uint32_t len)
{
	const struct http_file *f = http_files_find(files, nfiles, path, len);
	return f ? f : http_site_find(path, len);
}

const struct kv_tar_file *http_disk_file(const struct http_file *f)
{
	uintptr_t p = (uintptr_t)f, first = (uintptr_t)files;
	if (p < first || p >= first + nfiles * sizeof *files)
		return NULL;
	return tars[f - files];
}

bool http_disk_send(struct http_conn *c, const struct kv_tar_file *t,
		    uint64_t off, uint64_t len)
{
	uint8_t *buf = len ? malloc(len < CHUNK ? len : CHUNK) : NULL;
	if (len && !buf)
		return false;
	while (len && !c->failed) {
		size_t k = len < CHUNK ? (size_t)len : CHUNK;
		long got = kv_tar_read(store, t, off, buf, k);
		if (got <= 0)
			break;
		http_send(c, buf, (size_t)got, false);
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
	free(buf);
	return len == 0;
}

bool http_disk_read(const struct kv_tar_file *t, uint64_t off, void *buf,
		    size_t len)
{
	return kv_tar_read(store, t, off, buf, len) == (long)len;
}
