/* dir2c: the precompressed variants.  Only compressible types are tried
 * (images and archives are compressed already; a smaller variant of one
 * saves little and costs a negotiation), and a variant is kept only if it
 * is strictly smaller than the file. */
#include <brotli/encode.h>
#include <stdlib.h>
#include <zlib.h>

#include "dir2c.h"

static uint8_t *gzip(const struct file *f, size_t *len)
{
	z_stream z = {0};
	/* 16 + 15: a gzip wrapper (mtime 0, so builds are reproducible). */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + 15, 9,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		fail(f->src, "zlib: deflateInit2 failed");
	size_t cap = deflateBound(&z, (uLong)f->len);
	uint8_t *out = xrealloc(NULL, cap);
	z.next_in = f->data;
	z.avail_in = (uInt)f->len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		fail(f->src, "zlib: deflate did not finish");
	*len = z.total_out;
	deflateEnd(&z);
	return out;
}

static uint8_t *brotli(const struct file *f, size_t *len)
{
	size_t cap = BrotliEncoderMaxCompressedSize(f->len);
	if (!cap)
		fail(f->src, "brotli: too large to compress");
	uint8_t *out = xrealloc(NULL, cap);
	*len = cap;
	if (!BrotliEncoderCompress(BROTLI_MAX_QUALITY, BROTLI_DEFAULT_WINDOW,
				   BROTLI_MODE_GENERIC, f->len, f->data, len,
				   out))
		fail(f->src, "brotli: compression failed");
	return out;
}

void compress_file(struct file *f)
{
	if (!f->compressible || f->index || !f->len)
		return;
	f->gz = gzip(f, &f->gz_len);
	if (f->gz_len >= f->len) {
		free(f->gz);
		f->gz = NULL;
	}
	f->br = brotli(f, &f->br_len);
	if (f->br_len >= f->len) {
		free(f->br);
		f->br = NULL;
	}
}
