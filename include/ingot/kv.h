/*
 * kv: key-value stores on block devices (include/ingot/blk.h).
 *
 * kv_tar: a read-only store over a tar archive written to a block device
 * by plain tar(1) (ustar, pax and GNU long names, as GNU tar writes them):
 *   tar -cf site.tar -C site .   and   ingot-kvm --block site=site.tar,ro
 * Mounting reads every header once and builds a sorted index in memory
 * (one entry of 40 bytes plus the path per file); file contents stay on the
 * device and are read on demand.  Paths are normalised ("./a//b/" and
 * "/a/b" are "a/b"; "." parts vanish, ".." parts fold, and a path that
 * climbs out of the archive is refused).  Regular files are indexed;
 * directories, links and devices are skipped.  A malformed header stops
 * the mount with an error that names its byte offset.
 */
#ifndef INGOT_KV_H
#define INGOT_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blk_dev;

/* --- kv_tar: read-only, over a tar archive -------------------------------- */

struct kv_tar_file {
	const char *path; /* normalised, NUL-terminated */
	uint64_t offset;  /* of the contents, in bytes from the device start */
	uint64_t size;
	uint64_t mtime; /* seconds since the epoch */
};

struct kv_tar;

/* Reads the archive on d and indexes it.  Returns 0 and the store in
 * *out, -ENOMEM, a device error, or -EBADMSG with why (and the offset) in
 * err (errlen bytes, NUL-terminated). */
int kv_tar_mount(struct blk_dev *d, struct kv_tar **out, char *err,
		 size_t errlen);

/* The file at path (normalised first), or NULL. */
const struct kv_tar_file *kv_tar_find(const struct kv_tar *t, const char *path);

/* The files, sorted by path: count and the i-th. */
size_t kv_tar_count(const struct kv_tar *t);
const struct kv_tar_file *kv_tar_file(const struct kv_tar *t, size_t i);

/* Up to len bytes of f from byte off into buf: how many (0 at the end), or
 * a negative error. */
long kv_tar_read(struct kv_tar *t, const struct kv_tar_file *f, uint64_t off,
		 void *buf, size_t len);

/* The indexing on its own, over any reader (the fuzz harness's is memory):
 * read(ctx, off, buf, len) fills buf with len bytes at off or fails
 * (negative error); size is the archive's (or device's) length.  On
 * success *out holds the files (sorted, paths allocated with them: free
 * with kv_tar_index_free) and *n their count. */
typedef int kv_tar_reader(void *ctx, uint64_t off, void *buf, size_t len);
int kv_tar_index(kv_tar_reader *read, void *ctx, uint64_t size,
		 struct kv_tar_file **out, size_t *n, char *err, size_t errlen);
void kv_tar_index_free(struct kv_tar_file *files, size_t n);

/* Normalises path into out (outlen bytes): its length, or -1 if it is
 * empty, too long or climbs above the root. */
int kv_path_normalise(const char *path, size_t len, char *out, size_t outlen);

#endif
