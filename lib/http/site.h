/*
 * Compiled sites: the layout tools/dir2c emits and the HTTP server reads.
 * Nothing is parsed at run time: every file of the web root is one entry
 * of http_files[], sorted by URL path (bytewise, shorter first on a tie)
 * for binary search, with its bytes, media type, validators and
 * precompressed variants ready to be sent as they are.
 *
 * Paths are what a request names after percent-decoding and dot-segment
 * removal: "/" then the file's path under the root, segments joined by
 * "/", bytes as the file system gives them (UTF-8, checked).  A
 * directory's index.html is there twice: as /dir/index.html and as /dir/
 * (the root's as "/"), the second flagged HTTP_FILE_INDEX; both point at
 * the same bytes.  No path ends in "/" except those aliases, so a request
 * for /dir that misses and finds /dir/ is the redirect case.
 *
 * The bytes of every body are static const arrays (.rodata, one section
 * each with -fdata-sections) and each ends with one NUL not counted in its
 * length; the tables of pointers below are const too (.data.rel.ro, made
 * read-only by the image's layout before the seal).  A body can be handed
 * to the network without copying.
 *
 * Strings (path, type, etag, last_modified) are NUL-terminated and their
 * lengths given where a server writes them into headers.
 */
#ifndef LIB_HTTP_SITE_H
#define LIB_HTTP_SITE_H

#include <stdint.h>

/* The codings a body is kept in; HTTP_ENC_IDENTITY is always present. */
enum {
	HTTP_ENC_IDENTITY = 0,
	HTTP_ENC_GZIP = 1, /* RFC 1952, zlib level 9 */
	HTTP_ENC_BR = 2,   /* RFC 7932, quality 11 */
	HTTP_ENC_COUNT = 3,
};

/*
 * One coding of a file's bytes.  data is NULL when the coding is absent
 * (not a compressible type, or not smaller than the identity body), and
 * for the identity body of a file apps/http reads from a tar disk.  etag
 * is a strong validator, quoted ("\"...\""), distinct per coding as RFC
 * 9110 8.8.3 asks: the identity tag is a hash of the bytes and their
 * length, the variants add "-gz" or "-br" inside the quotes.
 */
struct http_body {
	const uint8_t *data;
	uint64_t len;
	uint8_t etag_len;
	const char *etag;
};

#define HTTP_FILE_INDEX 1 /* a directory's "/dir/" alias of its index.html */

struct http_file {
	const char *path; /* "/a/b.html", "/a/" */
	uint32_t path_len;
	uint8_t flags;
	uint8_t type_len;
	const char *type;          /* "text/html; charset=utf-8" */
	const char *last_modified; /* IMF-fixdate, HTTP_DATE_LEN chars */
	int64_t mtime;             /* the same, seconds since the epoch */
	struct http_body body[HTTP_ENC_COUNT];
};

#define HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* Every file of the site (tools/dir2c), sorted by path; http_nfiles may be
 * 0 (the array then holds one unused entry). */
extern const struct http_file http_files[];
extern const uint32_t http_nfiles;

/* Orders paths as dir2c sorts them: bytewise, then shorter first. */
static inline int http_path_cmp(const char *a, uint32_t alen, const char *b,
				uint32_t blen)
{
	uint32_t n = alen < blen ? alen : blen;
	for (uint32_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (uint8_t)a[i] < (uint8_t)b[i] ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

/* The entry of files (n of them, sorted as dir2c sorts) for a decoded,
 * normalised path, or NULL. */
static inline const struct http_file *
http_files_find(const struct http_file *files, uint32_t n, const char *path,
		uint32_t len)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct http_file *f = &files[mid];
		int c = http_path_cmp(path, len, f->path, f->path_len);
		if (c == 0)
			return f;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* The compiled site's entry for a decoded, normalised path, or NULL. */
static inline const struct http_file *http_site_find(const char *path,
						     uint32_t len)
{
	return http_files_find(http_files, http_nfiles, path, len);
}

#endif
