/* A minimal io_uring: see uring.h. */
#include <errno.h>
#include <string.h>

#include "msg.h"
#include "sys.h"
#include "uring.h"

enum {
	SYS_io_uring_setup = 425,
	SYS_io_uring_enter = 426,
	SYS_io_uring_register = 427,
	SYS_munmap = 11,
};

#define SETUP_R_DISABLED           (1u << 6)
#define SETUP_SUBMIT_ALL           (1u << 7)
#define SETUP_TASKRUN_FLAG         (1u << 9)
#define SETUP_SINGLE_ISSUER        (1u << 12)
#define SETUP_DEFER_TASKRUN        (1u << 13)
#define ENTER_GETEVENTS            1u
#define OFF_SQ_RING                0ULL
#define OFF_SQES                   0x10000000ULL
#define REGISTER_EVENTFD           4
#define REGISTER_RESTRICTIONS      11
#define REGISTER_ENABLE_RINGS      12
#define RESTRICT_SQE_OP            1
#define RESTRICT_SQE_FLAGS_ALLOWED 2
#define FEAT_SINGLE_MMAP           1u
#define SQ_TASKRUN                 (1u << 2)
#define CQ_EVENTFD_DISABLED        1u
#define PROT_RW                    3
#define MAP_SHARED                 1
#define MAP_POPULATE               0x8000

struct kernel_io_uring_cqe {
	uint64_t user_data;
	int32_t res;
	uint32_t flags;
};

struct uring_params {
	uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle,
	    features, wq_fd, resv[3];
	struct sq_offsets {
		uint32_t head, tail, ring_mask, ring_entries, flags, dropped,
		    array, resv1;
		uint64_t user_addr;
	} sq_off;
	struct cq_offsets {
		uint32_t head, tail, ring_mask, ring_entries, overflow, cqes,
		    flags, resv1;
		uint64_t user_addr;
	} cq_off;
};

struct restriction {
	uint16_t opcode;
	uint8_t value, resv;
	uint32_t resv2[3];
};

static long uring_register(int fd, unsigned op, const void *arg, unsigned n)
{
	return syscall4(SYS_io_uring_register, fd, op, arg, n);
}

/* Registers the eventfd and the restrictions, then starts the ring. */
static long confine(int fd, const uint8_t *ops, unsigned nops, int efd)
{
	struct restriction r[7] = {0};
	unsigned n = 0;
	if (nops > 6)
		return -EINVAL;
	if (efd >= 0) {
		long rc = uring_register(fd, REGISTER_EVENTFD, &efd, 1);
		if (rc < 0)
			return rc;
	}
	for (unsigned i = 0; i < nops; i++)
		r[n++] = (struct restriction){.opcode = RESTRICT_SQE_OP,
					      .value = ops[i]};
	r[n++] = (struct restriction){.opcode = RESTRICT_SQE_FLAGS_ALLOWED,
				      .value = HOST_URING_LINK};
	long rc = uring_register(fd, REGISTER_RESTRICTIONS, r, n);
	if (rc == 0)
		rc = uring_register(fd, REGISTER_ENABLE_RINGS, NULL, 0);
	return rc;
}

int host_uring_open(struct host_uring *u, uint32_t entries, const uint8_t *ops,
		    unsigned nops, int efd)
{
	/* Completions wait for this thread's next io_uring_enter (no signal
	 * to it, which would end KVM_RUN), and say so in the SQ's flags. */
	struct uring_params p = {
	    .flags = SETUP_R_DISABLED | SETUP_SUBMIT_ALL | SETUP_SINGLE_ISSUER |
		     SETUP_DEFER_TASKRUN | SETUP_TASKRUN_FLAG};
	long fd = syscall3(SYS_io_uring_setup, entries, &p, 0);
	if (fd < 0)
		return (int)fd;
	/* One mapping for both rings (5.4 on), the submissions in another. */
	size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
	size_t cq_size =
	    p.cq_off.cqes + p.cq_entries * sizeof(struct kernel_io_uring_cqe);
	size_t ring_size = sq_size > cq_size ? sq_size : cq_size;
	size_t sqes_size = entries * sizeof(struct kernel_io_uring_sqe);
	long ring = -EOPNOTSUPP, sqes = -EOPNOTSUPP, rc = -EOPNOTSUPP;
	if (!(p.features & FEAT_SINGLE_MMAP) || p.sq_entries != entries ||
	    !p.cq_off.flags)
		goto close;
	ring = syscall6(SYS_mmap, 0, ring_size, PROT_RW,
			MAP_SHARED | MAP_POPULATE, fd, OFF_SQ_RING);
	if ((rc = ring) < 0)
		goto close;
	sqes = syscall6(SYS_mmap, 0, sqes_size, PROT_RW,
			MAP_SHARED | MAP_POPULATE, fd, OFF_SQES);
	if ((rc = sqes) < 0)
		goto unmap_ring;
	char *r = (char *)ring;
	/* Disarmed until a sleep needs the eventfd. */
	*(uint32_t *)(r + p.cq_off.flags) |= CQ_EVENTFD_DISABLED;
	if ((rc = confine((int)fd, ops, nops, efd)) < 0)
		goto unmap_sqes;
	*u = (struct host_uring){
	    .fd = (int)fd,
	    .sq_mask = *(uint32_t *)(r + p.sq_off.ring_mask),
	    .cq_mask = *(uint32_t *)(r + p.cq_off.ring_mask),
	    .entries = entries,
	    .sq_tail = (uint32_t *)(r + p.sq_off.tail),
	    .sq_array = (uint32_t *)(r + p.sq_off.array),
	    .cq_head = (uint32_t *)(r + p.cq_off.head),
	    .cq_tail = (uint32_t *)(r + p.cq_off.tail),
	    .sq_flags = (uint32_t *)(r + p.sq_off.flags),
	    .cq_flags = (uint32_t *)(r + p.cq_off.flags),
	    .sqes = (struct kernel_io_uring_sqe *)sqes,
	    .cqes = (struct kernel_io_uring_cqe *)(r + p.cq_off.cqes),
	};
	/* Ring slot i always names sqes[i]: the array never changes. */
	for (uint32_t i = 0; i < entries; i++)
		u->sq_array[i] = i;
	return 0;
unmap_sqes:
	syscall3(SYS_munmap, sqes, sqes_size, 0);
unmap_ring:
	syscall3(SYS_munmap, ring, ring_size, 0);
close:
	syscall3(SYS_close, fd, 0, 0);
	return (int)rc;
}

struct kernel_io_uring_sqe *host_uring_sqe(struct host_uring *u)
{
	if (u->queued == u->entries)
		return NULL;
	uint32_t tail = *u->sq_tail + u->queued;
	struct kernel_io_uring_sqe *s = &u->sqes[tail & u->sq_mask];
	memset(s, 0, sizeof *s);
	s->user_data = u->queued++;
	return s;
}

struct kernel_io_uring_sqe *host_uring_queued(struct host_uring *u, uint32_t k)
{
	return &u->sqes[(*u->sq_tail + u->queued - k) & u->sq_mask];
}

void host_uring_run(struct host_uring *u, int32_t *res)
{
	uint32_t n = u->queued, done = 0;
	if (!n)
		return;
	/* Slot i names sqes[i]: publishing the tail submits them. */
	__atomic_store_n(u->sq_tail, *u->sq_tail + n, __ATOMIC_RELEASE);
	u->queued = 0;
	u->enters++;
	u->ops += n;
	uint32_t to_submit = n;
	while (done < n) {
		long rc = syscall6(SYS_io_uring_enter, u->fd, to_submit,
				   n - done, ENTER_GETEVENTS, 0, 0);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
			host_stop("io_uring_enter: error %ld", -rc);
		if (rc > 0)
			to_submit -=
			    (uint32_t)rc < to_submit ? (uint32_t)rc : to_submit;
		uint32_t head = *u->cq_head;
		uint32_t tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++, done++) {
			const struct kernel_io_uring_cqe *c =
			    &u->cqes[head & u->cq_mask];
			if (c->user_data < n)
				res[c->user_data] = c->res;
		}
		__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
	}
}

static void collect(struct host_uring *u,
		    void (*done)(void *ctx, uint64_t user_data, int32_t res),
		    void *ctx)
{
	uint32_t head = *u->cq_head;
	uint32_t tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
	/* Each one's slot goes back to the kernel before done runs. */
	for (; head != tail; head++) {
		struct kernel_io_uring_cqe c = u->cqes[head & u->cq_mask];
		__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
		done(ctx, c.user_data, c.res);
	}
}

void host_uring_push(struct host_uring *u)
{
	uint32_t n = u->queued;
	__atomic_store_n(u->sq_tail, *u->sq_tail + n, __ATOMIC_RELEASE);
	u->queued = 0;
	u->ops += n;
	/* Entering runs the completions' deferred work, which posts them. */
	if (n || __atomic_load_n(u->sq_flags, __ATOMIC_ACQUIRE) & SQ_TASKRUN) {
		u->enters++;
		for (;;) {
			long rc = syscall6(SYS_io_uring_enter, u->fd, n, 0,
					   ENTER_GETEVENTS, 0, 0);
			if (rc >= 0 && (uint32_t)rc >= n)
				break;
			if (rc < 0 && rc != -EINTR && rc != -EAGAIN &&
			    rc != -EBUSY)
				host_stop("io_uring_enter: error %ld", -rc);
			if (rc > 0)
				n -= (uint32_t)rc;
		}
	}
}

void host_uring_submit(struct host_uring *u,
		       void (*done)(void *ctx, uint64_t user_data, int32_t res),
		       void *ctx)
{
	host_uring_push(u);
	collect(u, done, ctx);
}

bool host_uring_completed(const struct host_uring *u)
{
	return __atomic_load_n(u->sq_flags, __ATOMIC_ACQUIRE) & SQ_TASKRUN ||
	       *u->cq_head != __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
}

bool host_uring_arm(struct host_uring *u)
{
	__atomic_and_fetch(u->cq_flags, ~CQ_EVENTFD_DISABLED, __ATOMIC_SEQ_CST);
	/* A completion queued while disarmed set the flag that this reads;
	 * one queued from now on reaches the eventfd. */
	return !host_uring_completed(u);
}

void host_uring_disarm(struct host_uring *u)
{
	__atomic_or_fetch(u->cq_flags, CQ_EVENTFD_DISABLED, __ATOMIC_RELAXED);
}
