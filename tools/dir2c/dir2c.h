/*
 * dir2c: compiles a directory tree (a web root) into C data for the HTTP
 * server (layout in lib/http/site.h), at build time.
 *   dir2c [-o OUT.c] [-m MAX_BYTES] ROOT
 * Every regular file under ROOT becomes an entry: its URL path, bytes,
 * media type by extension, a strong ETag, Last-Modified from its mtime,
 * and gzip and brotli variants where the type is compressible and the
 * variant is smaller.  An error names the path and the reason, and fails
 * the build: an unreadable file or directory, a name that cannot be a URL
 * path, a symlink leaving the tree or naming a directory, a special file,
 * a tree over MAX_BYTES (default DIR2C_MAX_BYTES).
 *
 * walk.c: the tree, names and symlinks; compress.c: gzip and brotli;
 * types.c: media types; emit.c: validators and the C written; main.c: the
 * command line.
 */
#ifndef TOOLS_DIR2C_H
#define TOOLS_DIR2C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../lib/http/site.h"

/* The files' own bytes, summed; their variants, each smaller than its
 * file, at most double that in the image. */
#define DIR2C_MAX_BYTES (256u << 20)

struct file {
	char *path; /* the URL path, "/a/b.html" */
	char *src;  /* where it was read, for errors */
	uint8_t *data;
	size_t len;
	int64_t mtime;
	bool index; /* a "/dir/" alias of an index.html */
	size_t id;  /* names its arrays; an alias shares its file's */
	const char *type;
	bool compressible;
	uint8_t *gz, *br;
	size_t gz_len, br_len;
};

struct site {
	struct file *files;
	size_t n, cap;
	uint64_t total; /* bytes of the files read so far */
	uint64_t max;
};

_Noreturn void fail(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void *xrealloc(void *p, size_t n);

/* walk.c: reads the tree under root into site, sorted by path, with the
 * index aliases added. */
void walk_tree(struct site *s, const char *root);

/* compress.c: sets f's variants (NULL where none is kept). */
void compress_file(struct file *f);

/* emit.c */
void emit_site(FILE *out, const struct site *s, const char *root);

#endif
