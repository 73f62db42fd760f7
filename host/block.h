/*
 * Block devices on the host side, the same on every target:
 *   --block NAME=FILE[,ro]   the image's block device NAME on FILE (a
 *                            regular file or a block device), read-only
 *                            with ",ro"
 * The device has FILE's size in 512-byte sectors (a partial last sector is
 * left out).  FILE is opened with O_DIRECT where its file system allows
 * (no page cache in between; the requests' alignment is the guest's),
 * and locked (flock: shared for ,ro, else exclusive) so that two hosts
 * never write one file.  Requests are served from the guest's ring at
 * every poll (abi.h, "Block devices"): through io_uring, many in flight at
 * once, where host_block_uring_start set it up, else one at a time; a
 * guest that breaks the ring's rules is stopped (host_stop).
 *
 * Errors: a malformed option is a usage error (exit 2, from the caller);
 * a device the image does not declare, or a file that cannot be opened,
 * locked or sized, ends the host with INGOT_EXIT_SETUP.
 */
#ifndef HOST_BLOCK_H
#define HOST_BLOCK_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stdint.h>

#include "net_ring.h"

#define HOST_BLOCK_SYNTAX "NAME=FILE, then optionally ,ro"
#define HOST_BLOCK_SECTOR 512

/* One --block option's text (argv's: kept, and ",ro" is cut off it).
 * Returns NULL, or what is wrong with it. */
const char *host_block_option(char *spec);

/* Attaches each --block device to the image's device of its name (the
 * manifest's index is the handle) and opens its file at descriptor
 * HOST_BLOCK_FD_BASE + handle (fds.h). */
void host_block_setup(const struct ingot_manifest_entry *manifest,
		      unsigned nmanifest, host_guest_ptr_fn *guest_ptr);

/* The device at handle: false if none is attached there. */
bool host_block_info(unsigned handle, struct ingot_block_info *info);

/* ingot_block_attach(): 0 or its negative error. */
int host_block_attach(unsigned handle, uint64_t ring_va);

/* Serves every device's ring; returns the handles that completed
 * requests, one bit each. */
uint64_t host_block_service(void);

/* Serves the rings through one io_uring (block_uring.c), unless off or
 * the kernel has none (a message says so: then one request at a time).
 * After host_block_setup, before any confinement, on the thread that
 * serves the rings. */
void host_block_uring_start(bool off);

/* The io_uring's descriptor (only io_uring_enter on it is needed) and its
 * eventfd's (only read), or -1 if there is none. */
int host_block_uring_fd(void);
int host_block_uring_eventfd(void);

/* Before a sleep: puts in fds what wakes it when a request in flight
 * completes and returns how many (0 or 1), or -1 if one completed already
 * (do not sleep).  After it, host_block_woke with the same fds and n. */
struct kernel_pollfd;
int host_block_sleep_fds(struct kernel_pollfd *fds);
void host_block_woke(const struct kernel_pollfd *fds, int n);

/* Calls fn with each device's file descriptor and whether it is
 * read-only. */
void host_block_fds(void (*fn)(void *ctx, int fd, bool ro), void *ctx);

/* Each device's counters, on standard error. */
void host_block_report(void);
void host_block_uring_report(void);

#endif
