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

/* --- kv_log: writable, a log-structured store ------------------------------
 */

/*
 * The device holds a superblock and fixed segments of KV_LOG_SEGMENT bytes;
 * every change is a record appended to the newest segment, checksummed
 * (CRC-32C) and stamped with its segment's epoch.  Writers from many fibers
 * are gathered into one write (and one flush) per turn: group commit.  A
 * put returns once its record is written, and flushed when opts.flush says
 * so (abi.h's durability: written survives the host process, flushed the
 * host machine too).  A fiber compacts in the background: when free
 * segments run low it copies the live records of the oldest segment forward
 * and frees it; readers never wait for it.
 *
 * Mounting a device of zeros formats it.  Otherwise the store replays every
 * segment in epoch order, skipping records whose checksum fails: those
 * followed by valid ones are counted as corrupt, those at the very end of
 * the log (a write the host never finished, hence never acknowledged) as a
 * dropped tail, which is zeroed.
 *
 * Memory: the index holds every key, and with it every value of up to
 * opts.inline_max bytes (larger values stay on the device, read at each
 * get): KV_LOG_ENTRY_BYTES per slot of a table sized for opts.max_keys at
 * 3/4 load, plus each key's bytes (and its value's, if kept) rounded up to
 * 16 and 16 more.  Keys are at most KV_LOG_KEY_MAX bytes, values
 * KV_LOG_VALUE_MAX.
 */
#define KV_LOG_SEGMENT     (1U << 20)
#define KV_LOG_KEY_MAX     1024
#define KV_LOG_VALUE_MAX   (256U * 1024)
#define KV_LOG_ENTRY_BYTES 48
#define KV_LOG_DEVICE_MIN  (16ULL << 20)

struct kv_log;

struct kv_log_options {
	size_t max_keys;   /* puts of new keys beyond it fail with -ENOSPC */
	bool flush;        /* flush every group commit (abi.h) */
	size_t inline_max; /* values of up to this many bytes are kept in
			      memory with their key: a get of one never
			      reads the device */
	/* While a commit is in flight the loop sleeps until it completes
	 * (sched_poller.wake_for), and what the network brings meanwhile
	 * waits for that turn: one exit per commit under load rather than
	 * one per arrival, for up to a commit's time more latency on
	 * requests that need no commit (redis-server's appendfsync always
	 * holds them for its fsync too). */
	bool hold_for_commit;
};

struct kv_log_stats {
	uint64_t keys, live_bytes, capacity_bytes;
	uint32_t segments, free_segments;
	uint64_t commits, records_written, bytes_written;
	uint64_t compactions, records_moved;
	uint64_t recovered, recovered_corrupt, recovered_dropped;
	uint64_t expired;
	uint64_t reads_memory, reads_device; /* values kv_log_get read */
};

/* Mounts (or formats) the store on d.  0, -ENOMEM, a device error, or
 * -EBADMSG / -ENOSPC with why in err. */
int kv_log_mount(struct blk_dev *d, const struct kv_log_options *opts,
		 struct kv_log **out, char *err, size_t errlen);

/* Put conditions. */
#define KV_PUT_NX         1 /* only if the key is absent */
#define KV_PUT_XX         2 /* only if the key is present */
#define KV_PUT_IF_VERSION 4 /* only if the key's version is still version */

/*
 * Sets key to value, expiring at wall-clock expire_ms (ms since the epoch;
 * 0: never).  Returns 0 once durable, -EEXIST / -ENOENT when NX / XX is
 * not met, -EAGAIN when the version moved (IF_VERSION), -EINVAL for sizes
 * beyond the limits, -ENOSPC when the device or the index is full, or a
 * device error (then every later change fails too).
 */
int kv_log_put(struct kv_log *s, const void *key, size_t klen, const void *val,
	       size_t vlen, int64_t expire_ms, unsigned flags,
	       uint64_t version);

/* Deletes key: 0 once durable, -ENOENT if absent, or an error. */
int kv_log_del(struct kv_log *s, const void *key, size_t klen);

/*
 * The same without waiting: the change is visible to every reader at once,
 * and *ticket says when it is durable: kv_log_sync(s, ticket) waits for
 * that (0, or the device error that failed it).  A server pipelining
 * requests makes them all, then waits once before it answers.
 */
int kv_log_put_async(struct kv_log *s, const void *key, size_t klen,
		     const void *val, size_t vlen, int64_t expire_ms,
		     unsigned flags, uint64_t version, uint32_t *ticket);
int kv_log_del_async(struct kv_log *s, const void *key, size_t klen,
		     uint32_t *ticket);
int kv_log_sync(struct kv_log *s, uint32_t ticket);

/*
 * Reads key's value into buf (cap bytes; buf may be NULL to learn the
 * size): returns its length (the value is cut at cap), -ENOENT, or an
 * error.  *expire_ms and *version (if not NULL) get the key's.
 */
long kv_log_get(struct kv_log *s, const void *key, size_t klen, void *buf,
		size_t cap, int64_t *expire_ms, uint64_t *version);

/* Keys present now (expired ones not counted once noticed). */
uint64_t kv_log_count(const struct kv_log *s);

void kv_log_stats(const struct kv_log *s, struct kv_log_stats *st);

/* The clock of expiry times: wall-clock ms since the epoch. */
int64_t kv_log_now_ms(void);

#endif
