/*
 * The host side of the network rings (abi.h, "Network devices"): moves
 * frames between a guest's rings and a backend through callbacks, and
 * treats all it reads from the rings as untrusted.  A guest that breaks the
 * ring rules is stopped (host_stop).
 */
#ifndef HOST_NET_RING_H
#define HOST_NET_RING_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stdint.h>

struct kernel_iovec;

/* Host pointer to guest-virtual [va, va + len), or NULL if that is not all
 * (writable) guest memory.  Each side provides it. */
typedef void *host_guest_ptr_fn(uint64_t va, uint64_t len, bool writable);

/* A frame's offload fields, as the first slot carries them (abi.h). */
struct host_frame {
	uint16_t flags; /* INGOT_NET_SLOT_CSUM, _CSUM_OK, _TSO4 */
	uint16_t gso_size, csum_start, csum_offset;
};

/* Reads and writes per batch (host_ring_ops.batch). */
#define HOST_RING_BATCH_MAX 64

/* One read or write of a batch. */
struct host_ring_io {
	struct kernel_iovec *iov; /* as send and recv take them */
	unsigned n;
	bool send;
	int res;             /* what send or recv would return */
	struct host_frame f; /* send: the frame's offloads; recv: set */
	uint64_t scratch[2]; /* the backend's: its header for iov[0] */
};

/*
 * A backend.  A frame travels as iov[1..n-1], its pieces in guest memory
 * (on receive the last is a spill byte: a read that reaches it was longer
 * than the buffers); iov[0] is the backend's, for a header of its own.
 */
struct host_ring_ops {
	/* Sends one frame: 0, -EAGAIN (try again later) or another
	 * negative error (the frame is dropped). */
	int (*send)(void *ctx, struct kernel_iovec *iov, unsigned n,
		    const struct host_frame *f);
	/* Receives one frame: its length, -EAGAIN when none is waiting, or
	 * another negative error (receiving stops until the next service).
	 * *f gets its offload flags. */
	int (*recv)(void *ctx, struct kernel_iovec *iov, unsigned n,
		    struct host_frame *f);
	/* Turns on the offloads the guest took (a subset of those offered):
	 * 0 or a negative error. */
	int (*set_offloads)(void *ctx, uint32_t features);
	/* Optional: carries out io[0..n), its sends first, as send and recv
	 * would each, at the cost of one system call.  A send after one
	 * that failed is not tried (-ECANCELED: it stays on the ring);
	 * receives are independent of each other. */
	void (*batch)(void *ctx, struct host_ring_io *io, unsigned n);
};

struct host_ring_counters {
	uint64_t frames_in, bytes_in, frames_out, bytes_out;
	uint64_t frames_in_tso, frames_out_tso; /* more than one segment */
	uint64_t dropped_in_too_big; /* longer than the guest's buffers */
	uint64_t dropped_out_error;  /* the backend refused the frame */
	uint64_t errors_in;          /* the backend failed to receive */
};

struct host_ring {
	struct ingot_net_ring *ring; /* host pointer, checked at attach */
	uint32_t size;               /* as checked at attach */
	uint32_t used;               /* the host's copy: never read back */
};

/* RX buffers checked once, when the guest hands them over: a read then
 * offers the kernel up to 33 of them without checking each again. */
struct host_rx_checked {
	uint32_t upto; /* slots before this index are checked */
	struct {
		void *base;
		size_t len;
	} buf[INGOT_NET_RING_MAX]; /* by slot */
};

struct host_ring_dev {
	const char *name; /* the device's, for messages */
	const struct host_ring_ops *ops;
	void *ctx;
	host_guest_ptr_fn *guest_ptr;
	uint32_t offered;  /* INGOT_NET_F_*: what the backend can do */
	uint32_t features; /* what the guest took */
	struct host_ring tx, rx;
	struct host_rx_checked rx_checked;
	bool attached;     /* rings given */
	bool tx_blocked;   /* the backend said EAGAIN with frames pending */
	uint32_t rx_burst; /* batch: reads to try at once */
	struct host_ring_counters count;
};

/* Checks and records a ring pair for ingot_net_attach(), and turns on the
 * offloads its TX ring asks for.  Returns 0 or the call's negative error. */
int host_ring_attach(struct host_ring_dev *d, uint64_t tx_va, uint64_t rx_va);

/* Sends what the TX ring holds and fills what the RX ring offers.
 * Returns true if the guest has something new: a frame received, or room
 * on a TX ring that was full. */
bool host_ring_service(struct host_ring_dev *d);

/* What to wait for on the backend, as poll(2) events: input while the
 * guest has RX buffers posted, output while a send was refused with
 * EAGAIN.  0: nothing. */
short host_ring_poll_events(const struct host_ring_dev *d);

#endif
