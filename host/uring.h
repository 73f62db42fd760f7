/*
 * A minimal io_uring, on raw system calls like the rest of host/ (sys.h):
 * a batch of reads and writes goes to the kernel in one io_uring_enter and
 * comes back whole (host_uring_run), or stays in flight across calls and
 * is collected as it completes (host_uring_submit).  The ring is confined when
 * it is made to the operations it was opened for
 * (IORING_REGISTER_RESTRICTIONS), and no further registration: a seccomp filter
 * that allows io_uring_enter on it allows those operations on the process's
 * descriptors and no more.  (Not registered files: the kernel lets go of a
 * ring's registered files tens of milliseconds after the process ends, and a
 * tap held so cannot be attached again by a monitor restarted at once.)
 */
#ifndef HOST_URING_H
#define HOST_URING_H

#include <stdbool.h>
#include <stdint.h>

/* The kernel's layouts (linux/io_uring.h), as far as they are used. */
struct kernel_io_uring_sqe {
	uint8_t opcode, flags;
	uint16_t ioprio;
	int32_t fd;
	uint64_t off, addr;
	uint32_t len, rw_flags;
	uint64_t user_data;
	uint16_t buf_index, personality;
	uint32_t file_index;
	uint64_t addr3, pad;
};

#define HOST_URING_OP_READV  1
#define HOST_URING_OP_WRITEV 2
#define HOST_URING_OP_FSYNC  3
#define HOST_URING_OP_READ   22
#define HOST_URING_OP_WRITE  23
#define HOST_URING_DATASYNC  1u /* FSYNC's rw_flags: fdatasync(2) */
#define HOST_URING_LINK      4u /* IOSQE_IO_LINK */
#define HOST_URING_NOWAIT    8u /* RWF_NOWAIT: -EAGAIN, never a wait */
#define HOST_URING_DSYNC     2u /* RWF_DSYNC: as if opened O_DSYNC */

struct host_uring {
	int fd;
	uint32_t sq_mask, cq_mask, entries;
	uint32_t *sq_tail, *sq_array, *cq_head, *cq_tail, *sq_flags, *cq_flags;
	struct kernel_io_uring_sqe *sqes;
	struct kernel_io_uring_cqe *cqes;
	uint32_t queued; /* sqes filled since the last run */
	uint64_t enters, ops;
};

/*
 * Opens a ring of `entries` submissions (a power of two) that takes only
 * ops[0..nops) (HOST_URING_OP_*, at most 6), with no submission flag but
 * HOST_URING_LINK.  If efd is an eventfd, it is made readable when a
 * request completes while the ring is armed (host_uring_arm).  Returns 0
 * or the kernel's negative error (the caller then does without); u is
 * unchanged on failure.
 */
int host_uring_open(struct host_uring *u, uint32_t entries, const uint8_t *ops,
		    unsigned nops, int efd);

/* The next submission, zeroed, its user_data the count of those queued
 * before it; NULL when the ring is full (run it first). */
struct kernel_io_uring_sqe *host_uring_sqe(struct host_uring *u);

/* The submission queued k-th last (1: the last one), not submitted yet;
 * k is at most the number queued. */
struct kernel_io_uring_sqe *host_uring_queued(struct host_uring *u, uint32_t k);

/* Submits what is queued and waits until all of it completed; res[i] gets
 * the result of the submission whose user_data is i.  Ends the host
 * (host_fail) if the kernel refuses the ring itself. */
void host_uring_run(struct host_uring *u, int32_t *res);

/* Submits what is queued without waiting for it. */
void host_uring_push(struct host_uring *u);

/* Submits what is queued without waiting for it, then calls
 * done(ctx, user_data, result) for every request that completed so far
 * (done may queue more: they go at the next call).  Ends the host like
 * host_uring_run. */
void host_uring_submit(struct host_uring *u,
		       void (*done)(void *ctx, uint64_t user_data, int32_t res),
		       void *ctx);

/* Whether requests completed that host_uring_submit has not collected:
 * read from the ring, no system call. */
bool host_uring_completed(const struct host_uring *u);

/* Around a sleep on the ring's eventfd: arm turns its notifications on
 * and returns false if a completion is already there (do not sleep);
 * disarm turns them off again (completions then reach the eventfd only
 * while someone sleeps on it). */
bool host_uring_arm(struct host_uring *u);
void host_uring_disarm(struct host_uring *u);

#endif
