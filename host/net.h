/*
 * Network devices on the host side, the same on every target:
 *   --net NAME=TAP[,mac=MAC]              an existing tap device
 *   --net NAME=udp:LPORT:RPORT[,mac=MAC]  frames as UDP datagrams on
 *                                         127.0.0.1, from LPORT to RPORT
 * A tap device offers the guest checksum offload and TSO (abi.h) unless
 * ,offload=off says not to (a capture on the tap then sees every frame as
 * it goes on the wire); the UDP backend offers none.
 * The UDP backend needs no privilege: two guests with mirrored ports are
 * joined by a virtual cable, and a test can be the other end.  Frames move
 * between the backend and the guest's rings at every poll (net_ring.h).
 *
 * Errors: a malformed option is a usage error (exit 2, from the caller);
 * a device the image does not declare or a backend that cannot be opened
 * (a tap device that does not exist, a port in use) ends the host with
 * INGOT_EXIT_SETUP.  ingot never creates a tap device: one it created
 * would vanish with it, and the operator could not have configured it.
 */
#ifndef HOST_NET_H
#define HOST_NET_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stdint.h>

#include "net_ring.h"

#define HOST_NET_SYNTAX                                                        \
	"NAME=TAP or NAME=udp:LPORT:RPORT, then optionally ,mac=MAC, ,mtu=N, " \
	",queue=N (a tap) and ,offload=off"

/* One --net option's text.  Returns NULL, or what is wrong with it. */
const char *host_net_option(const char *spec);

/* Attaches each --net device to the image's device of its name (the
 * manifest's index is the handle) and opens its backend at file
 * descriptor HOST_NET_FD_BASE + handle (fds.h). */
void host_net_setup(const struct ingot_manifest_entry *manifest,
		    unsigned nmanifest, host_guest_ptr_fn *guest_ptr);

/* How many devices are attached. */
unsigned host_net_count(void);

/* The device at handle: false if none is attached there. */
bool host_net_info(unsigned handle, struct ingot_net_info *info);

/* ingot_net_attach(): 0 or its negative error. */
int host_net_attach(unsigned handle, uint64_t tx_va, uint64_t rx_va);

/* Serves every device; returns the handles with news, one bit each. */
uint64_t host_net_service(void);

/* Fills fds (INGOT_DEVICES_MAX of them) with what to wait on, input only
 * for the devices in wake (one bit per handle); returns how many. */
struct kernel_pollfd;
unsigned host_net_pollfds(struct kernel_pollfd *fds, uint64_t wake);

/* Calls fn with each device's file descriptor. */
void host_net_fds(void (*fn)(void *ctx, int fd), void *ctx);

/* Moves the tap devices' frames through one io_uring (net_uring.c), unless
 * off or the kernel has none (io_uring_setup refused: a message says so),
 * and then with one writev or readv per frame.  After host_net_setup,
 * before any confinement: it needs io_uring_setup and io_uring_register,
 * which a filter should then refuse. */
void host_net_uring_start(bool off);

/* The io_uring's descriptor (only io_uring_enter on it is needed), or -1
 * if there is none. */
int host_net_uring_fd(void);

/* Each device's counters, on standard error. */
void host_net_report(void);

#endif
