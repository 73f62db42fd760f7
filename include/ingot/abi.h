/*
 * ingot platform ABI: the whole contract between a guest and its host.
 *
 * Every target (kvm, hosted, ...) implements exactly these calls; the
 * libraries above (libc, sched, net) use nothing else.  Some calls are
 * served by the host (on kvm: a hypercall, one VM exit), others entirely
 * inside the guest; each says which, because on kvm an exit costs tens of
 * microseconds and that shapes how the libraries use them.
 *
 * Conventions:
 *  - Action calls return 0 or a negative error from <errno.h> (-EINVAL ...).
 *  - Times are nanoseconds in a uint64_t.  Monotonic time starts near 0 at
 *    boot; wall-clock time counts from the Unix epoch.
 *  - A call given an address the guest does not own, or a length that runs
 *    past guest memory, does not return: the host stops the guest and reports
 *    it (exit status INGOT_EXIT_STOPPED).  A host never reads or
 *    writes outside guest memory on a guest's behalf.
 *  - Calls marked "noreturn" end the guest; their status is the status of the
 *    host process (ingot-kvm, or the hosted process).
 */
#ifndef INGOT_ABI_H
#define INGOT_ABI_H

#define INGOT_ABI_VERSION 4

/*
 * Exit statuses of the host process.  0..249 are the guest's own (its
 * ingot_exit() argument or ingot_main()'s result); the rest are the host's,
 * saying who ended the guest and why, and no guest can give one as its own:
 * any other status it asks for ends it with INGOT_EXIT_BAD_STATUS.  A
 * one-line message on stderr always accompanies 250..255.
 */
#define INGOT_EXIT_BAD_STATUS 250 /* the guest asked for another status */
#define INGOT_EXIT_WATCHDOG   251 /* no ABI call for --watchdog seconds */
#define INGOT_EXIT_SETUP      252 /* the host could not start the guest */
#define INGOT_EXIT_STOPPED                                                     \
	254 /* the host stopped a guest that broke the ABI                     \
	     */
#define INGOT_EXIT_ABORT                                                       \
	255 /* ingot_abort() or a CPU exception in the guest                   \
	     */

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Devices.  An image declares the devices it needs in its manifest (see
 * INGOT_DEVICE below); the host attaches only those, each to a backend the
 * operator names (ingot-kvm --net NAME=TAP).  A device the image declares but
 * the operator leaves out is present with attached == false.
 */
enum ingot_device_type {
	INGOT_DEVICE_NET = 1,
	INGOT_DEVICE_BLOCK = 2, /* see "Block devices" below */
};

#define INGOT_DEVICE_NAME_MAX 31 /* bytes, excluding the terminating NUL */
#define INGOT_DEVICES_MAX     16 /* handles are 0..15, one bit each in poll */

struct ingot_net_info {
	uint8_t mac[6];
	uint16_t mtu;      /* largest IP packet the link carries, e.g. 1500 */
	uint32_t features; /* offloads the host offers: INGOT_NET_F_* */
};

/* A block device's geometry (see "Block devices"). */
struct ingot_block_info {
	uint32_t sector_size; /* bytes; requests and buffers align to it */
	uint32_t read_only;   /* 1: writes stop the guest */
	uint64_t sectors;     /* capacity */
};

struct ingot_device {
	char name[INGOT_DEVICE_NAME_MAX + 1];
	uint32_t type;   /* enum ingot_device_type */
	uint32_t handle; /* index in ingot_boot_info.devices; its poll bit */
	bool attached;
	union {
		struct ingot_net_info net;
		struct ingot_block_info block;
	} u;
};

/*
 * What the guest learns at boot.  Read-only; valid for the guest's lifetime.
 */
struct ingot_boot_info {
	uint64_t mem_size;    /* bytes of guest memory, everything included */
	uintptr_t heap_start; /* page-aligned; free for the guest's allocator */
	size_t heap_size;
	int argc;          /* arguments after the image name on the host */
	char *const *argv; /* argv[0] is the image name; argv[argc] == NULL */
	uint64_t clock_hz; /* resolution of the monotonic clock's source */
	uint64_t random_seed; /* fresh per boot, from the host's CSPRNG */
	uint32_t ndevices;
	struct ingot_device devices[INGOT_DEVICES_MAX];
};

/*
 * The application's entry point.  The platform calls it once, after the
 * libraries' start-of-day hooks ran and the guest was sealed; its result is
 * the exit status, as if passed to ingot_exit().
 */
int ingot_main(int argc, char **argv);

/* The boot information.  In-guest, never fails. */
const struct ingot_boot_info *ingot_boot_info(void);

/*
 * Writes len bytes to the guest's console (the host's standard output).
 * The host writes all of them before returning; console output is never
 * reordered or dropped, unless nobody reads it any more (a closed pipe): then
 * it is dropped and counted, and the guest runs on.  Returns 0.  On kvm: one
 * exit per call, so callers buffer (libc's stdout is line-buffered).
 */
int ingot_console_write(const char *buf, size_t len);

/*
 * Monotonic time in ns since boot: never goes backwards, keeps counting while
 * the guest sleeps in ingot_poll().  In-guest where the CPU allows (kvm reads
 * the TSC; on nested KVM that read itself traps, so the scheduler reads the
 * clock once per turn rather than per use).
 */
uint64_t ingot_clock_monotonic(void);

/* Wall-clock time in ns since 1970-01-01 UTC, as the host sees it at boot
 * plus monotonic time since; it does not follow later host clock steps. */
uint64_t ingot_clock_wall(void);

/*
 * Sleeps until a device is ready or monotonic time reaches deadline_ns,
 * whichever comes first, and returns 0.  *ready_set gets one bit per device
 * handle with work pending (a received frame, a completed request); it may
 * be 0 on a deadline, and may have bits set spuriously.  *now_ns (if not
 * NULL) gets the monotonic time on return, saving a clock read.
 * deadline_ns == UINT64_MAX waits for devices only; a deadline in the past
 * checks the devices and returns at once.  While the guest sleeps here its
 * vCPU uses no CPU, and the watchdog does not count the time.
 */
int ingot_poll(uint64_t deadline_ns, uint64_t *ready_set, uint64_t *now_ns);

/*
 * ingot_poll() whose sleep only news of the devices in wake_set (one bit
 * per handle) ends, besides the deadline and the operator's requests:
 * the other devices are served meanwhile (frames sent, received frames
 * taken into free slots, requests taken and completed) and their bits
 * reported when it ends.  For a guest that has nothing to do until a
 * device completes (a durable write it waits for) and would rather take
 * what arrives meanwhile in that turn than in one exit each.  A hint: a
 * target may end the sleep for any device (the virtio target does).
 * INGOT_WAKE_ANY is ingot_poll().
 */
#define INGOT_WAKE_ANY UINT64_MAX
int ingot_poll_for(uint64_t deadline_ns, uint64_t wake_set, uint64_t *ready_set,
		   uint64_t *now_ns);

/*
 * Requests from the operator, in the ready set beside the device bits:
 * STOP asks the guest to end cleanly (ingot-kvm and hosted images: SIGTERM
 * or SIGINT; a second one ends it at once), REPORT asks it to print its
 * counters (SIGUSR1).  Each request is reported once.
 */
#define INGOT_READY_STOP   (1ULL << 63)
#define INGOT_READY_REPORT (1ULL << 62)

/*
 * Page protections the guest may set on its own memory before ingot_seal(),
 * for example guard pages below fiber stacks.  addr and len must be
 * page-aligned and inside the heap; execute permission cannot be granted.
 * The change takes effect at the latest at the seal (kvm batches requests
 * to the host).  Returns -EINVAL for a bad range or prot, -EPERM once
 * sealed.
 */
#define INGOT_PAGE_SIZE 4096
enum ingot_prot {
	INGOT_PROT_NONE = 0, /* any access faults */
	INGOT_PROT_READ = 1,
	INGOT_PROT_RW = 3,
};
int ingot_mem_protect(void *addr, size_t len, enum ingot_prot prot);

/*
 * Seals the guest: from here on its memory map cannot change.  Code stays
 * read-only and executable, data writable and never executable, and the
 * tables that say so are out of the guest's reach (kvm: the page tables were
 * never the guest's to write, and the host stops changing them on its
 * behalf; hosted: a seccomp allowlist forbids
 * mprotect, mmap and everything else not needed to serve the ABI).  The
 * platform seals before calling ingot_main(), so applications never call it.
 * Returns 0, or -EPERM if already sealed.
 */
int ingot_seal(void);

/* Ends the guest with status, 0..249 (any other: INGOT_EXIT_BAD_STATUS). */
_Noreturn void ingot_exit(int status);

/*
 * Ends the guest with INGOT_EXIT_ABORT after the host printed msg (len
 * bytes, not necessarily NUL-terminated) on its standard error.
 */
_Noreturn void ingot_abort(const char *msg, size_t len);

/*
 * Start-of-day hooks.  A library that must reserve memory or set page
 * protections before the seal registers a function with INGOT_INIT; the
 * platform runs them, in link order, after the allocator is ready and before
 * ingot_seal().  A hook returns 0 or a negative error, which aborts boot.
 */
typedef int (*ingot_init_fn)(void);
#define INGOT_INIT(fn)                                                         \
	static const ingot_init_fn _ingot_init_##fn                            \
	    __attribute__((used, section(".ingot.init"))) = fn

/*
 * The manifest: devices an image needs, by name.  For example
 *   INGOT_DEVICE(INGOT_DEVICE_NET, service);
 * in an app declares the network interface "service"; the host refuses to
 * attach devices not declared, and fills in ingot_boot_info.devices.
 */
struct ingot_manifest_entry {
	uint32_t type; /* enum ingot_device_type */
	char name[INGOT_DEVICE_NAME_MAX + 1];
};
#define INGOT_DEVICE(type_, name_)                                             \
	static const struct ingot_manifest_entry _ingot_device_##name_         \
	    __attribute__((used, section(".ingot.manifest"), aligned(4))) = {  \
		.type = (type_), .name = #name_}

/*
 * Network devices.  Frames are Ethernet II frames without the FCS, at most
 * INGOT_NET_FRAME_MAX bytes unless an offload below allows more.  They move
 * through two rings in guest memory that the guest hands to the host once,
 * before the seal: on the TX ring frames to send, on the RX ring empty
 * buffers for the host to fill.  The host reads and writes the buffers in
 * place (no copy in the guest), and serves the rings in every ingot_poll():
 * under load one call moves a whole batch each way, never one exit per
 * frame.
 *
 * A ring's indices count slots forever (they wrap at 2^32; the slot is
 * index & (size - 1)).  The guest owns avail: it fills slot[avail] (TX: a
 * frame; RX: an empty buffer and its capacity in len), then advances avail.
 * The host owns used: slots in [used, avail) are its own until it advances
 * used past them (TX: sent, or dropped if the link refused it; RX: filled,
 * len the bytes put there).  Neither side touches a slot the other owns.
 *
 * A frame may span consecutive slots: every slot but its last carries
 * INGOT_NET_SLOT_MORE, at most INGOT_NET_CHAIN_MAX slots in all.  On TX
 * any frame may (headers in one buffer, payload in others: data the guest
 * never copies); the guest advances avail past whole frames only.  On RX
 * only a frame larger than one buffer does, and only with
 * INGOT_NET_F_TSO4; every RX buffer holds at least INGOT_NET_FRAME_MAX
 * bytes, and a frame longer than the buffers is dropped, not truncated.
 * The first slot of a frame carries its offload fields.
 *
 * Offloads: the host offers them per device (ingot_net_info.features); the
 * guest takes a subset by writing it to its TX ring's features before
 * ingot_net_attach(), and the host turns exactly those on.
 *  INGOT_NET_F_CSUM: a TX frame with INGOT_NET_SLOT_CSUM has its TCP or UDP
 *    checksum completed by the host: the guest puts the pseudo-header's sum
 *    at csum_start + csum_offset, and the host sums from csum_start to the
 *    end of the frame (virtio-net's NEEDS_CSUM).  An RX frame with
 *    INGOT_NET_SLOT_CSUM_OK must not have its TCP or UDP checksum checked:
 *    it was checked, or the frame never left this host and its checksum
 *    field holds only the pseudo-header's sum (a guest forwarding such a
 *    frame completes the sum at csum_start + csum_offset first).
 *  INGOT_NET_F_TSO4 (with F_CSUM): a TX frame with INGOT_NET_SLOT_TSO4 is
 *    one TCP/IPv4 segment of up to INGOT_NET_GSO_FRAME_MAX bytes with
 *    INGOT_NET_SLOT_CSUM, which the host cuts into segments of gso_size
 *    payload bytes (headers copied, sequence numbers and IP ids advanced,
 *    flags as a TSO device sets them).  RX frames may be as large: several
 *    segments of one connection coalesced (gso_size their size), spread
 *    over buffers.  The host reads such a frame only when the RX buffers
 *    handed over hold INGOT_NET_GSO_FRAME_MAX bytes in at most
 *    INGOT_NET_CHAIN_MAX slots.
 *
 * Everything the host reads from a ring is untrusted: an index, a buffer
 * address, a chain or an offload field outside these rules stops the
 * guest (INGOT_EXIT_STOPPED).
 */
#define INGOT_NET_FRAME_MAX     1514 /* 1500-byte MTU plus the Ethernet header */
#define INGOT_NET_GSO_FRAME_MAX (14 + 65535) /* largest IP packet */
#define INGOT_NET_RING_MAX      1024 /* slots per ring, a power of two */
#define INGOT_NET_CHAIN_MAX     64   /* slots per frame */

#define INGOT_NET_F_CSUM 1u
#define INGOT_NET_F_TSO4 2u

#define INGOT_NET_SLOT_MORE    1u /* the frame goes on in the next slot */
#define INGOT_NET_SLOT_CSUM    2u /* TX: complete the checksum */
#define INGOT_NET_SLOT_CSUM_OK 4u /* RX: do not check the checksum */
#define INGOT_NET_SLOT_TSO4    8u /* a TCP/IPv4 frame of gso_size segments */

struct ingot_net_slot {
	uint64_t addr;  /* guest-virtual address of the buffer */
	uint32_t len;   /* bytes: TX in the buffer, RX capacity then filled */
	uint16_t flags; /* INGOT_NET_SLOT_*; offloads on a frame's first */
	uint16_t gso_size;    /* SLOT_TSO4: payload bytes per segment */
	uint16_t csum_start;  /* SLOT_CSUM: from the frame's first byte */
	uint16_t csum_offset; /* SLOT_CSUM: of the checksum, from csum_start */
	uint32_t reserved;
};

struct ingot_net_ring {
	uint32_t size; /* slots, a power of two <= INGOT_NET_RING_MAX */
	volatile uint32_t avail; /* written by the guest */
	volatile uint32_t used;  /* written by the host */
	uint32_t features;       /* TX ring: the offloads taken (see above) */
	struct ingot_net_slot slot[];
};

/*
 * Hands the rings of the network device with this handle to the host, which
 * serves them from the next ingot_poll() on.  Both rings must lie in
 * writable guest memory and stay there for the guest's lifetime.  Returns 0;
 * -ENODEV if the handle is not an attached network device; -EBUSY if its
 * rings were given already; -EPERM after the seal; -EINVAL for a bad size
 * or offloads the host did not offer.
 */
int ingot_net_attach(uint32_t handle, struct ingot_net_ring *tx,
		     struct ingot_net_ring *rx);

/*
 * Block devices.  A device is an array of sectors (ingot_block_info) that
 * the guest reads and writes through one ring of requests in guest memory,
 * handed to the host once before the seal.  The host takes new requests
 * from the ring in every ingot_poll() and sets the device's ready bit when
 * it completed any: under load one exit carries a whole batch.
 *
 * The guest fills req[avail & (size - 1)], with status
 * INGOT_BLOCK_PENDING, and advances avail.  The host carries out the
 * requests in [used, avail), several at once and in any order between
 * FLUSHes (below), so a request may complete in a later ingot_poll() than
 * the one that took it, and before requests ahead of it: it then writes
 * the request's status, which ends the request, and advances used past
 * every request that has its status (slots before used are the guest's
 * again; slots in [used, avail) stay the host's, but for reading their
 * status).  A guest that reads only used sees completions in ring order.
 * A request's buffer is addr, count * sector_size
 * bytes: READ fills it, WRITE sends it, FLUSH has none (count 0).  What
 * stops the guest (INGOT_EXIT_STOPPED), since only a broken or hostile guest
 * does it: an index outside the rules, an unknown op, a count of 0 or above
 * INGOT_BLOCK_REQ_SECTORS_MAX(sector_size), sectors past the capacity, a
 * buffer not aligned to sector_size or not all (for READ: writable) guest
 * memory, and a WRITE to a read-only device.  status is 0, or a negative
 * error the host's file gave (-EIO, -ENOSPC): the request failed, the
 * device stays usable.
 *
 * Durability, the same on every target:
 *  - A completed READ sees every WRITE completed before it was submitted.
 *  - A completed WRITE has left the guest: it survives the guest's end or
 *    crash and the host process's (kill -9 of ingot-kvm), but not the host
 *    machine's crash or power loss.
 *  - A completed FLUSH makes every WRITE completed before the FLUSH was
 *    submitted survive the host machine's crash and power loss too (the
 *    host's fdatasync(2) of the backing file).  A FLUSH starts after
 *    every request ahead of it in the ring completed, and the requests
 *    behind it start after it completed: it covers the WRITEs ahead of it
 *    in the ring.  Between FLUSHes nothing else is ordered: a READ
 *    submitted while a WRITE to its sectors is in flight may see either.
 *  - A WRITE that did not complete (the host died first) may have written
 *    any part of its buffer, so stores checksum what they write.
 * On the virtio target the host is QEMU's virtio-blk, and this holds for a
 * raw image in every cache= mode but cache=unsafe, which drops flushes
 * (README, "Block devices: virtio-blk").
 */
#define INGOT_BLOCK_RING_MAX 1024 /* slots, a power of two */
#define INGOT_BLOCK_REQ_BYTES_MAX                                              \
	(1U << 20) /* one request's buffer, at most                            \
		    */
#define INGOT_BLOCK_REQ_SECTORS_MAX(sector_size)                               \
	(INGOT_BLOCK_REQ_BYTES_MAX / (sector_size))

#define INGOT_BLOCK_PENDING 1 /* a status: not completed yet */

enum ingot_block_op {
	INGOT_BLOCK_READ = 1,
	INGOT_BLOCK_WRITE = 2,
	INGOT_BLOCK_FLUSH = 3,
};

struct ingot_block_req {
	uint64_t addr;   /* guest-virtual buffer, sector_size-aligned */
	uint64_t sector; /* first sector */
	uint32_t count;  /* sectors (0 for FLUSH) */
	uint32_t op;     /* enum ingot_block_op */
	int32_t status;  /* INGOT_BLOCK_PENDING, then the host's: 0 or an
			  * error */
	uint32_t tag;    /* the guest's own; the host never touches it */
};

struct ingot_block_ring {
	uint32_t size; /* slots, a power of two <= INGOT_BLOCK_RING_MAX */
	volatile uint32_t avail; /* written by the guest */
	volatile uint32_t used;  /* written by the host */
	uint32_t reserved;
	struct ingot_block_req req[];
};

/*
 * Hands the ring of the block device with this handle to the host, which
 * serves it from the next ingot_poll() on.  The ring must lie in writable
 * guest memory and stay there for the guest's lifetime.  Returns 0;
 * -ENODEV if the handle is not an attached block device (and on targets
 * without block devices); -EBUSY if its ring was given already; -EPERM after
 * the seal; -EINVAL for a bad size or address.
 */
int ingot_block_attach(uint32_t handle, struct ingot_block_ring *ring);

#endif /* __ASSEMBLY__ */
#endif
