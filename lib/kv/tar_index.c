/*
 * Indexing a tar archive (kv.h): headers as GNU tar writes them (ustar,
 * with pax extended headers and GNU long names), read through a callback
 * so that the same code runs over a block device and, in the fuzz harness,
 * over memory.  Every field is untrusted: sizes are checked against the
 * archive's end before anything is read or allocated, and a malformed
 * header ends the indexing with its offset.
 */
#include <errno.h>
#include <ingot/kv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK        512
#define NAME_MAX_LEN 4096  /* GNU long names and pax paths */
#define PAX_MAX      65536 /* one pax extended header */

struct indexer {
	kv_tar_reader *read;
	void *ctx;
	uint64_t size;
	char *err;
	size_t errlen;
	struct kv_tar_file *files;
	size_t n, cap;
	char name[NAME_MAX_LEN + 1]; /* from 'L' or pax, for the next entry */
	bool have_name;
	uint64_t pax_size;
	bool have_size;
};

static int bad(struct indexer *x, uint64_t off, const char *why)
{
	snprintf(x->err, x->errlen, "malformed tar header at offset %llu: %s",
		 (unsigned long long)off, why);
	return -EBADMSG;
}

/* An octal field (leading spaces, digits, then NUL or spaces) or GNU's
 * base-256 (first byte 0x80): false if neither. */
static bool number(const unsigned char *f, size_t len, uint64_t *v)
{
	size_t i = 0;
	*v = 0;
	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return false; /* negative, or too big */
		for (i = 1; i < len; i++) {
			if (*v >> 56)
				return false;
			*v = *v << 8 | f[i];
		}
		return true;
	}
	while (i < len && f[i] == ' ')
		i++;
	size_t digits = 0;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (*v >> 60)
			return false;
		*v = *v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return false;
	return digits > 0;
}

static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	if (!number(h + 148, 8, &want))
		return false;
	uint64_t sum = 0;
	int64_t ssum = 0;
	for (int i = 0; i < BLOCK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
		sum += c;
		ssum += (signed char)c;
	}
	return want == sum || (int64_t)want == ssum;
}

/* The whole of [off, off + len) into a new buffer, NUL-terminated. */
static int read_data(struct indexer *x, uint64_t off, uint64_t len, char **out)
{
	char *buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	int rc = len ? x->read(x->ctx, off, buf, len) : 0;
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* Records "LEN key=value\n"; path and size matter here. */
static int pax(struct indexer *x, uint64_t hoff, const char *p, uint64_t len)
{
	const char *end = p + len;
	while (p < end) {
		uint64_t rlen = 0;
		const char *q = p;
		while (q < end && *q >= '0' && *q <= '9' && rlen < PAX_MAX)
			rlen = rlen * 10 + (uint64_t)(*q++ - '0');
		if (q == p || q >= end || *q != ' ' ||
		    rlen > (uint64_t)(end - p) ||
		    rlen < (uint64_t)(q - p) + 3 || p[rlen - 1] != '\n')
			return bad(x, hoff, "bad pax record");
		const char *key = q + 1, *rend = p + rlen - 1;
		const char *eq = memchr(key, '=', (size_t)(rend - key));
		if (!eq)
			return bad(x, hoff, "pax record without '='");
		size_t klen = (size_t)(eq - key),
		       vlen = (size_t)(rend - eq - 1);
		if (klen == 4 && memcmp(key, "path", 4) == 0) {
			if (vlen > NAME_MAX_LEN)
				return bad(x, hoff, "pax path too long");
			memcpy(x->name, eq + 1, vlen);
			x->name[vlen] = '\0';
			x->have_name = true;
		} else if (klen == 4 && memcmp(key, "size", 4) == 0) {
			uint64_t v = 0;
			size_t i = 0;
			for (; i < vlen && eq[1 + i] >= '0' && eq[1 + i] <= '9';
			     i++) {
				if (v > UINT64_MAX / 10 - 10)
					return bad(x, hoff, "pax size too big");
				v = v * 10 + (uint64_t)(eq[1 + i] - '0');
			}
			if (i == 0 || i != vlen)
				return bad(x, hoff, "bad pax size");
			x->pax_size = v;
			x->have_size = true;
		}
		p += rlen;
	}
	return 0;
}

static int add(struct indexer *x, uint64_t hoff, const char *name, size_t nlen,
	       uint64_t data, uint64_t size, uint64_t mtime)
{
	char path[NAME_MAX_LEN + 1];
	int plen = kv_path_normalise(name, nlen, path, sizeof path);
	if (plen < 0) {
		/* The archive's own root ("./") is no file. */
		if (nlen && strspn(name, "./") == nlen)
			return 0;
		return bad(x, hoff, "file name empty or above the root");
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		struct kv_tar_file *f = realloc(x->files, cap * sizeof *f);
		if (!f)
			return -ENOMEM;
		x->files = f;
		x->cap = cap;
	}
	char *copy = malloc((size_t)plen + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, path, (size_t)plen + 1);
	x->files[x->n++] = (struct kv_tar_file){copy, data, size, mtime};
	return 0;
}

/* One header at off; *next gets the following header's offset. */
static int entry(struct indexer *x, const unsigned char *h, uint64_t off,
		 uint64_t *next)
{
	uint64_t size, mtime;
	if (!checksum_ok(h))
		return bad(x, off, "bad checksum");
	if (!number(h + 124, 12, &size))
		return bad(x, off, "bad size field");
	if (!number(h + 136, 12, &mtime))
		mtime = 0;
	char type = (char)h[156];
	if (x->have_size && type != 'x' && type != 'g' && type != 'L' &&
	    type != 'K')
		size = x->pax_size;
	uint64_t data = off + BLOCK;
	if (size > x->size - data)
		return bad(x, off, "contents run past the end of the archive");
	*next = data + ((size + BLOCK - 1) & ~(uint64_t)(BLOCK - 1));

	if (type == 'L' || type == 'x') {
		if (size > (type == 'L' ? NAME_MAX_LEN : PAX_MAX))
			return bad(x, off, "extended header too long");
		char *buf;
		int rc = read_data(x, data, size, &buf);
		if (rc < 0)
			return rc;
		if (type == 'L') {
			memcpy(x->name, buf, size + 1);
			x->have_name = true;
		} else {
			rc = pax(x, off, buf, size);
		}
		free(buf);
		return rc;
	}
	if (type == 'K' || type == 'g')
		return 0; /* a long link name; global pax records */

	int rc = 0;
	if (type == '0' || type == '\0' || type == '7') {
		char name[NAME_MAX_LEN + 1];
		size_t nlen;
		if (x->have_name) {
			nlen = strlen(x->name);
			memcpy(name, x->name, nlen);
		} else {
			/* POSIX ustar splits long names into prefix/name;
			 * GNU's "ustar  " uses that space for other things. */
			size_t plen = 0;
			if (memcmp(h + 257, "ustar\0", 6) == 0)
				plen = strnlen((const char *)h + 345, 155);
			memcpy(name, h + 345, plen);
			nlen = plen;
			if (plen)
				name[nlen++] = '/';
			size_t base = strnlen((const char *)h, 100);
			memcpy(name + nlen, h, base);
			nlen += base;
		}
		rc = add(x, off, name, nlen, data, size, mtime);
	}
	x->have_name = x->have_size = false;
	return rc;
}

static int by_path(const void *a, const void *b)
{
	const struct kv_tar_file *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sorted, and of each path only the last copy (as tar -x leaves it). */
static void sort_unique(struct indexer *x)
{
	if (x->n)
		qsort(x->files, x->n, sizeof x->files[0], by_path);
	size_t k = 0;
	for (size_t i = 0; i < x->n; i++) {
		if (k && strcmp(x->files[k - 1].path, x->files[i].path) == 0) {
			free((char *)x->files[k - 1].path);
			k--;
		}
		x->files[k++] = x->files[i];
	}
	x->n = k;
}

int kv_tar_index(kv_tar_reader *read, void *ctx, uint64_t size,
		 struct kv_tar_file **out, size_t *n, char *err, size_t errlen)
{
	struct indexer *x = calloc(1, sizeof *x);
	unsigned char h[BLOCK];
	int rc = 0;

	if (!x)
		return -ENOMEM;
	*x = (struct indexer){.read = read,
			      .ctx = ctx,
			      .size = size,
			      .err = err,
			      .errlen = errlen};
	if (errlen)
		err[0] = '\0';
	for (uint64_t off = 0; off + BLOCK <= size;) {
		rc = read(ctx, off, h, BLOCK);
		if (rc < 0)
			break;
		static const unsigned char zero[BLOCK];
		if (memcmp(h, zero, BLOCK) == 0)
			break; /* the end-of-archive blocks */
		uint64_t next;
		rc = entry(x, h, off, &next);
		if (rc < 0)
			break;
		off = next;
	}
	if (rc == 0 && (x->have_name || x->have_size))
		rc = bad(x, size, "extended header with no entry after it");
	if (rc < 0) {
		kv_tar_index_free(x->files, x->n);
	} else {
		sort_unique(x);
		*out = x->files;
		*n = x->n;
	}
	free(x);
	return rc;
}

void kv_tar_index_free(struct kv_tar_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)files[i].path);
	free(files);
}
