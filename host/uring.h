/*
 * A minimal io_uring, on raw system calls like the rest of host/ (sys.h):
 * a batch of reads and writes goes to the kernel in one io_uring_enter and
 * comes back whole.  The ring is confined when it is made to the
 * operations it was opened for (IORING_REGISTER_RESTRICTIONS), and no
 * further registration: a seccomp filter that allows io_uring_enter on it
 * allows those operations on the process's descriptors and no more.  (Not
 * registered files: the kernel lets go of a ring's registered files tens
 * of milliseconds after the process ends, and a tap held so cannot be
 * attached again by a monitor restarted at once.)
 */
#ifndef HOST_URING_H
#define HOST_URING_H

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
#define HOST_URING_LINK      4u /* IOSQE_IO_LINK */
#define HOST_URING_NOWAIT    8u /* RWF_NOWAIT: -EAGAIN, never a wait */

struct host_uring {
	int fd;
	uint32_t sq_mask, cq_mask, entries;
	uint32_t *sq_tail, *sq_array, *cq_head, *cq_tail;
	struct kernel_io_uring_sqe *sqes;
	struct kernel_io_uring_cqe *cqes;
	uint32_t queued; /* sqes filled since the last run */
	uint64_t enters, ops;
};

/*
 * Opens a ring of `entries` submissions (a power of two) that takes only
 * ops[0..nops) (HOST_URING_OP_*, at most 6), with no submission flag but
 * HOST_URING_LINK.  Returns 0 or the kernel's negative error (the caller
 * then does without); u is unchanged on failure.
 */
int host_uring_open(struct host_uring *u, uint32_t entries, const uint8_t *ops,
		    unsigned nops);

/* The next submission, zeroed, its user_data the count of those queued
 * before it; NULL when the ring is full (run it first). */
struct kernel_io_uring_sqe *host_uring_sqe(struct host_uring *u);

/* Submits what is queued and waits until all of it completed; res[i] gets
 * the result of the submission whose user_data is i.  Ends the host
 * (host_fail) if the kernel refuses the ring itself. */
void host_uring_run(struct host_uring *u, int32_t *res);

#endif
